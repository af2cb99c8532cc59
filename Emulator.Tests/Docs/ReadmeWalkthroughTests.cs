using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Packaging;

namespace Fanfare.Emulator.Tests.Docs;

/// <summary>
/// Issue 10 §5: the README's shell walk-throughs run as written. Convention (README.md, top): fenced blocks opened with
/// <c>```bash walkthrough</c>; those of one <c>##</c> section are joined in order into one bash script
/// (<c>set -euo pipefail</c>) run against a freshly reset emulator, <c>localhost:4800/4802/4803/4805</c> mapped to its
/// ports; a command line ending in <c># true</c>, <c># false</c> or <c># UPPER_WORD</c> must print exactly that.
/// Needs bash, curl and jq (installed by <c>.ci/run</c>).
/// </summary>
public sealed partial class ReadmeWalkthroughTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    public static TheoryData<string> Sections()
    {
        var data = new TheoryData<string>();
        foreach (var name in Walkthroughs().Keys) data.Add(name);
        return data;
    }

    /// <summary>Section title → its walk-through blocks, joined.</summary>
    public static Dictionary<string, string> Walkthroughs()
    {
        var lines = File.ReadAllLines(Path.Combine(DockerfileSpec.RepositoryRoot(), "README.md"));
        var result = new Dictionary<string, string>();
        string section = "(top)";
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("## ", StringComparison.Ordinal)) section = lines[i][3..].Trim();
            if (Regex.IsMatch(lines[i], @"^```(bash|sh)\s+walkthrough\s*$"))
            {
                var block = new StringBuilder();
                for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++) block.AppendLine(lines[i]);
                result[section] = (result.TryGetValue(section, out var prev) ? prev : "") + block;
            }
        }
        return result;
    }

    /// <summary>Joins continuation lines and turns <c>cmd   # true</c> into a checked command.</summary>
    public static string ToScript(string walkthrough, IReadOnlyDictionary<int, int> ports)
    {
        foreach (var (from, to) in ports) walkthrough = walkthrough.Replace("localhost:" + from, "127.0.0.1:" + to);
        var joined = Regex.Replace(walkthrough.Replace("\r\n", "\n"), @"\\\n", " ");
        var sb = new StringBuilder("set -euo pipefail\n");
        foreach (var line in joined.Split('\n'))
        {
            var m = Regex.Match(line, @"^(?<cmd>[^#].*?\S)\s+#\s+(?<want>true|false|[A-Z][A-Z_]+)\b.*$");
            if (m.Success && !line.TrimStart().StartsWith('#'))
            {
                var want = m.Groups["want"].Value;
                sb.AppendLine($"__out=$({m.Groups["cmd"].Value})");
                sb.AppendLine($"if [ \"$__out\" != \"{want}\" ]; then echo \"README: expected {want}, got: $__out\" >&2; echo {Quote(m.Groups["cmd"].Value)} >&2; exit 1; fi");
                sb.AppendLine("echo \"$__out\"");
            }
            else sb.AppendLine(line);
        }
        return sb.ToString();
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    [Fact]
    public void There_are_walkthroughs_to_run() => Assert.True(Walkthroughs().Count >= 8, string.Join(", ", Walkthroughs().Keys));

    /// <summary>Every shell block is a walk-through, except the exempt ones named in the README's convention paragraph:
    /// the commands above the first section (start the emulator, run this suite, run it against the image's executable)
    /// and the <c>## Docker</c> block.</summary>
    [Fact]
    public void Every_shell_block_outside_the_exemptions_is_a_walkthrough()
    {
        var lines = File.ReadAllLines(Path.Combine(DockerfileSpec.RepositoryRoot(), "README.md"));
        string section = "(top)";
        var unmarked = new List<string>();
        bool inFence = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!inFence && lines[i].StartsWith("## ", StringComparison.Ordinal)) section = lines[i][3..].Trim();
            if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
            if (inFence) { inFence = false; continue; }
            inFence = true;
            if (Regex.IsMatch(lines[i], @"^```(bash|sh|shell|console)\s*$") && section is not "(top)" and not "Docker")
                unmarked.Add($"line {i + 1} ({section})");
        }
        Assert.True(unmarked.Count == 0, "unmarked shell blocks: " + string.Join(", ", unmarked));
    }

    [Theory]
    [MemberData(nameof(Sections))]
    public async Task Readme_walkthrough_runs_as_written(string section)
    {
        await emu.ResetAsync();
        var ports = new Dictionary<int, int> { [4800] = emu.AdminPort, [4802] = emu.ConsumerPort, [4803] = emu.BeaconPort, [4805] = emu.CheckoutPort };
        var script = ToScript(Walkthroughs()[section], ports);
        var file = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(file, script);
        try
        {
            var psi = new ProcessStartInfo("bash", [file]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await p.WaitForExitAsync(cts.Token);
            var (o, e) = (await stdout, await stderr);
            Assert.True(p.ExitCode == 0, $"README section \"{section}\" failed (exit {p.ExitCode})\nstderr:\n{e}\nstdout:\n{o}\nscript:\n{script}");
            Assert.DoesNotContain("jq: error", e);
        }
        finally
        {
            File.Delete(file);
            await emu.ResetAsync();
        }
    }
}
