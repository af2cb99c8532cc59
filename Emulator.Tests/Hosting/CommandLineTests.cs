using System.Net;
using System.Net.Sockets;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Tests.Infrastructure;
using Fanfare.Emulator.Tests.Packaging;

namespace Fanfare.Emulator.Tests.Hosting;

/// <summary>
/// Issue 10 §4: the command line (System.CommandLine). Help and version exit 0; an unknown flag, a bad configuration
/// value, a missing seed file or a port in use is one line on stderr and a non-zero exit, never a stack trace; a seed
/// path is relative to the caller's directory; <c>healthcheck</c> still works.
/// </summary>
public sealed class CommandLineTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    /// <summary>Runs the command line in-process: exit code, stdout, stderr (also used by the snapshot start-up tests).</summary>
    internal static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = await EmulatorCommandLine.RunAsync(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>The four port options on free loopback ports.</summary>
    internal static string[] FreePortArgs()
    {
        var listeners = Enumerable.Range(0, 4).Select(_ => { var l = new TcpListener(IPAddress.Loopback, 0); l.Start(); return l; }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        listeners.ForEach(l => l.Stop());
        return ["--admin-port", ports[0].ToString(), "--consumer-port", ports[1].ToString(), "--beacon-port", ports[2].ToString(), "--checkout-port", ports[3].ToString()];
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public async Task Help_lists_the_options_and_exits_0(string flag)
    {
        var (code, output, _) = await RunAsync(flag);
        Assert.Equal(0, code);
        foreach (var option in new[] { "--admin-port", "--consumer-port", "--beacon-port", "--checkout-port", "--data", "--seed",
                     "--in-memory", "--otp-code", "--smtp-host", "--cors-origin", "--rate-limits", "healthcheck" })
            Assert.Contains(option, output);
    }

    [Fact]
    public async Task Version_prints_the_version_and_exits_0()
    {
        var (code, output, _) = await RunAsync("--version");
        Assert.Equal(0, code);
        Assert.Equal(EmulatorState.Version, output.Trim());
    }

    [Fact]
    public async Task An_unknown_flag_is_an_error()
    {
        var (code, _, err) = await RunAsync("--port", "5300");
        Assert.NotEqual(0, code);
        Assert.Contains("--port", err);
    }

    [Theory]
    [InlineData("--Emulator:AdminPort=abc", "Emulator:AdminPort")]
    [InlineData("--Emulator:BindAddress=localhost:80", "Emulator:BindAddress")]
    [InlineData("--seed=no/such/seed.json", "seed file not found")]
    public async Task A_bad_value_or_a_missing_seed_file_is_one_line_on_stderr(string arg, string expected)
    {
        var (code, _, err) = await RunAsync(arg);
        Assert.Equal(EmulatorCommandLine.BadConfiguration, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_on_stderr()
    {
        var args = FreePortArgs();
        using var busy = new TcpListener(IPAddress.Loopback, int.Parse(args[1]));
        busy.Start();
        var (code, _, err) = await RunAsync([.. args, "--in-memory", "--no-banner"]);
        Assert.Equal(EmulatorCommandLine.CannotStart, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(args[1], line);
        Assert.Contains("in use", line);
    }

    [Fact]
    public async Task The_process_reports_start_up_errors_without_a_stack_trace()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Fanfare.Emulator.dll");
        var env = ChildProcess.CleanEnvironment(new Dictionary<string, string> { ["Emulator__AdminPort"] = "abc" });
        var (code, output) = await ChildProcess.RunAsync(ChildProcess.DotnetHost(), [dll, "--in-memory"], Path.GetTempPath(), env, TimeSpan.FromSeconds(60));
        Assert.Equal(EmulatorCommandLine.BadConfiguration, code);
        Assert.Contains("Emulator:AdminPort: \"abc\" is not a valid number", output);
        Assert.DoesNotContain("   at ", output);

        var (unknown, unknownOutput) = await ChildProcess.RunAsync(ChildProcess.DotnetHost(), [dll, "--port", "5300"], Path.GetTempPath(),
            ChildProcess.CleanEnvironment(), TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, unknown);
        Assert.Contains("'--port'", unknownOutput);
    }

    [Fact]
    public async Task A_relative_seed_path_is_relative_to_the_current_directory()
    {
        var dir = Directory.CreateTempSubdirectory("fanfare-cli-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "seed"));
            File.WriteAllText(Path.Combine(dir.FullName, "seed", "my-seed.json"), """{"randomSeed":"x","organizations":[{"name":"Cwd Org"}]}""");
            var args = FreePortArgs();
            var dll = Path.Combine(AppContext.BaseDirectory, "Fanfare.Emulator.dll");
            await using var p = ChildProcess.Start(ChildProcess.DotnetHost(), [dll, .. args, "--in-memory", "--seed", "seed/my-seed.json"], dir.FullName, ChildProcess.CleanEnvironment());
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{args[1]}"), Timeout = TimeSpan.FromSeconds(20) };
            var deadline = DateTime.UtcNow.AddSeconds(120);
            string? body = null;
            while (DateTime.UtcNow < deadline && !p.HasExited)
            {
                try
                {
                    var r = await http.GetAsync("/_emulator/organizations");
                    if (r.IsSuccessStatusCode) { body = await r.Content.ReadAsStringAsync(); break; }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                await Task.Delay(200);
            }
            Assert.True(body is not null, p.Output);
            Assert.Contains("Cwd Org", body);
            Assert.Contains("customer-token secret", p.Output); // the banner prints every published key
            Assert.Contains("live secret key", p.Output);
        }
        finally { try { dir.Delete(true); } catch (IOException) { } }
    }

    [Fact]
    public async Task Healthcheck_subcommand_exits_0_when_the_emulator_answers()
    {
        // The probe gives up after 3 s; on a loaded machine one try may be slow, so allow a few.
        int up = 1;
        for (int i = 0; i < 5 && up != 0; i++) (up, _, _) = await RunAsync("healthcheck", $"http://127.0.0.1:{emu.AdminPort}/_emulator/health");
        Assert.Equal(0, up);
        var (down, _, _) = await RunAsync("healthcheck", "http://127.0.0.1:1/_emulator/health");
        Assert.Equal(1, down);
    }

    [Fact]
    public void Dotnet_run_keeps_the_callers_directory()
    {
        // `dotnet run --project Emulator -- --seed seed/x.json` resolves against the directory the user ran it from.
        var csproj = File.ReadAllText(Path.Combine(DockerfileSpec.RepositoryRoot(), "Emulator", "Emulator.csproj"));
        Assert.Contains("<RunWorkingDirectory>$(MSBuildStartupDirectory)</RunWorkingDirectory>", csproj);
    }

    [Fact]
    public void Default_data_directory_is_ignored_by_git()
    {
        var root = DockerfileSpec.RepositoryRoot();
        Assert.Contains(File.ReadAllLines(Path.Combine(root, ".gitignore")), l => l.Trim() == ".emulator-data/");
        Assert.Equal(".emulator-data", new EmulatorOptions().DataDirectory);
    }
}
