using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Infrastructure.Errors;

public sealed partial class BodyReader
{
    /// <summary>
    /// Takes the issues of <paramref name="nested"/> (a reader over the object at <paramref name="key"/> of this body) as
    /// this body's own, their paths starting at <paramref name="key"/>: <c>{"fault":{"status":"x"}}</c> reports
    /// <c>path: [fault, status]</c>.
    /// </summary>
    public void Merge(BodyReader nested, string key)
    {
        foreach (var issue in nested._issues)
        {
            var path = Validation.PathFor(Root, key);
            foreach (var item in issue.Path) path.Add(item?.DeepClone());
            _issues.Add(issue with { Path = path });
        }
    }
}
