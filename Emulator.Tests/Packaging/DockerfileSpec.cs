using System.Text;
using System.Text.Json;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// The parts of the repository's <c>Dockerfile</c> the packaging tests replay without Docker: the build stage's
/// <c>RUN dotnet publish …</c> arguments, and the final stage's <c>ENV</c>, <c>ENTRYPOINT</c>, <c>HEALTHCHECK CMD</c>,
/// <c>EXPOSE</c>, <c>VOLUME</c> and <c>USER</c>. Understands line continuations, comments, the <c>KEY=value</c> and
/// legacy <c>KEY value</c> ENV forms and the JSON (exec) form of ENTRYPOINT/CMD.
/// </summary>
public sealed class DockerfileSpec
{
    public sealed record Instruction(int Stage, string Keyword, string Arguments);

    public List<Instruction> Instructions { get; } = [];
    /// <summary>The image of every <c>FROM</c>, in order, with the <c>ARG</c>s declared before the first <c>FROM</c>
    /// replaced by their defaults (what <c>docker build</c> uses without <c>--build-arg</c>).</summary>
    public List<string> BaseImages { get; } = [];
    /// <summary>The image of every <c>FROM</c> as written (e.g. <c>${SDK_IMAGE}</c>).</summary>
    public List<string> BaseImagesAsWritten { get; } = [];
    /// <summary><c>ARG name=default</c> lines before the first <c>FROM</c> (usable in <c>FROM</c>).</summary>
    public Dictionary<string, string> GlobalArgs { get; } = new(StringComparer.Ordinal);
    public int FinalStage => BaseImages.Count - 1;

    /// <summary>Tokens of the <c>RUN dotnet publish</c> command after <c>dotnet</c> (so starting with <c>publish</c>).</summary>
    public string[] PublishArguments { get; private set; } = [];
    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);
    public string[] Entrypoint { get; private set; } = [];
    public string[] HealthcheckCommand { get; private set; } = [];
    public List<int> ExposedPorts { get; } = [];
    public List<string> Volumes { get; } = [];
    public string? User { get; private set; }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Fanfare.Emulator.sln")) && File.Exists(Path.Combine(dir.FullName, "Dockerfile")))
                return dir.FullName;
        throw new InvalidOperationException($"no Fanfare.Emulator.sln + Dockerfile above {AppContext.BaseDirectory}");
    }

    public static DockerfileSpec Load(string path) => Parse(File.ReadAllText(path));

    public static DockerfileSpec Parse(string text)
    {
        var spec = new DockerfileSpec();
        var logical = new StringBuilder();
        foreach (var raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith('#')) continue; // comments (also inside continuations)
            if (line.EndsWith('\\')) { logical.Append(line[..^1]).Append(' '); continue; }
            logical.Append(line);
            var full = logical.ToString().Trim();
            logical.Clear();
            if (full.Length > 0) spec.Add(full);
        }
        if (logical.Length > 0) spec.Add(logical.ToString().Trim());
        return spec;
    }

    private void Add(string line)
    {
        var space = line.IndexOfAny([' ', '\t']);
        var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
        var rest = space < 0 ? "" : line[(space + 1)..].Trim();
        if (keyword == "ARG" && BaseImages.Count == 0)
        {
            foreach (var w in ShellWords(rest))
            {
                var eq = w.IndexOf('=');
                GlobalArgs[eq < 0 ? w : w[..eq]] = eq < 0 ? "" : w[(eq + 1)..];
            }
        }
        if (keyword == "FROM")
        {
            var words = ShellWords(rest).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
            var image = words.Count > 0 ? words[0] : "";
            BaseImagesAsWritten.Add(image);
            BaseImages.Add(System.Text.RegularExpressions.Regex.Replace(image, @"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                m => GlobalArgs.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value));
            // A new stage: what the image gets is the last stage's (stages built FROM an earlier stage are not followed).
            Env.Clear(); ExposedPorts.Clear(); Volumes.Clear(); User = null; Entrypoint = []; HealthcheckCommand = [];
        }
        var stage = BaseImages.Count - 1;
        Instructions.Add(new Instruction(stage, keyword, rest));

        switch (keyword)
        {
            case "RUN":
                var words = ShellWords(rest);
                var at = words.FindIndex(w => w == "dotnet");
                if (at < 0 || at + 1 >= words.Count || words[at + 1] != "publish") break;
                if (PublishArguments.Length > 0) throw new FormatException("the Dockerfile has more than one `RUN dotnet publish`");
                PublishArguments = words.Skip(at + 1).TakeWhile(w => w is not ("&&" or ";" or "||")).ToArray();
                break;
            case "ENV":
                ParseEnv(rest);
                break;
            case "ENTRYPOINT":
                Entrypoint = ExecForm(rest);
                break;
            case "HEALTHCHECK":
                var cmd = rest.IndexOf("CMD", StringComparison.Ordinal);
                HealthcheckCommand = cmd < 0 ? [] : ExecForm(rest[(cmd + 3)..].Trim());
                break;
            case "EXPOSE":
                foreach (var w in ShellWords(rest)) ExposedPorts.Add(int.Parse(w.Split('/')[0]));
                break;
            case "VOLUME":
                Volumes.AddRange(rest.StartsWith('[') ? ExecForm(rest) : ShellWords(rest));
                break;
            case "USER":
                User = rest;
                break;
        }
    }

    private void ParseEnv(string rest)
    {
        var words = ShellWords(rest);
        if (words.Count > 0 && !words[0].Contains('='))
        {
            Env[words[0]] = string.Join(' ', words.Skip(1)); // legacy "ENV KEY value with spaces"
            return;
        }
        foreach (var w in words)
        {
            var eq = w.IndexOf('=');
            if (eq <= 0) throw new FormatException($"ENV entry without '=': {w}");
            Env[w[..eq]] = w[(eq + 1)..];
        }
    }

    private static string[] ExecForm(string json)
    {
        if (!json.StartsWith('[')) throw new FormatException($"expected the JSON (exec) form, got: {json}");
        return JsonSerializer.Deserialize<string[]>(json) ?? [];
    }

    /// <summary>Splits like a POSIX shell: whitespace separates words; single/double quotes and backslashes group.</summary>
    public static List<string> ShellWords(string s)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < s.Length) current.Append(s[++i]);
                else current.Append(c);
            }
            else if (c is '"' or '\'') { quote = c; inWord = true; }
            else if (c == '\\' && i + 1 < s.Length) { current.Append(s[++i]); inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
            }
            else { current.Append(c); inWord = true; }
        }
        if (quote != '\0') throw new FormatException($"unterminated quote in: {s}");
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
