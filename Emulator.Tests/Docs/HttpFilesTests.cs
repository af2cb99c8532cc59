using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Packaging;

namespace Fanfare.Emulator.Tests.Docs;

/// <summary>Issue 10 §5: every <c>.http</c> file in the repository runs top to bottom against a fresh emulator (see
/// <see cref="HttpFileRunner"/> for the syntax), so the request files cannot drift from the API.</summary>
public sealed class HttpFilesTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    public static TheoryData<string> Files()
    {
        var root = DockerfileSpec.RepositoryRoot();
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(Path.Combine(root, "Emulator"), "*.http", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                     .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).Order())
            data.Add(f);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Http_file_runs_top_to_bottom(string file)
    {
        await emu.ResetAsync();
        var text = File.ReadAllText(Path.Combine(DockerfileSpec.RepositoryRoot(), file));
        Assert.DoesNotContain("REPLACE", text);
        var ports = new Dictionary<int, int> { [4800] = emu.AdminPort, [4802] = emu.ConsumerPort, [4803] = emu.BeaconPort, [4805] = emu.CheckoutPort };
        // {{$datetime …}} is the emulator clock's now, read from the control plane where the file uses it.
        DateTimeOffset Now()
        {
            using var res = emu.Control.Send(new HttpRequestMessage(HttpMethod.Get, "/_emulator/clock"));
            res.EnsureSuccessStatusCode();
            return DateTimeOffset.Parse(System.Text.Json.Nodes.JsonNode.Parse(res.Content.ReadAsStream())!["now"]!.GetValue<string>(),
                System.Globalization.CultureInfo.InvariantCulture);
        }
        var steps = await HttpFileRunner.RunAsync(text, ports, Now);
        Assert.NotEmpty(steps);
        await emu.ResetAsync();
    }
}
