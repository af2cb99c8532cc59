using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Control.Snapshots;

/// <summary>
/// Issue 17 §4: <c>--snapshot FILE</c> (option <c>Emulator:SnapshotFile</c>) starts the emulator from a snapshot instead of
/// the seed, a bad file is one line on stderr and exit code 2; a sandbox's clock setting survives a restart on a data
/// directory.
/// </summary>
public sealed class SnapshotStartupTests
{
    private static readonly DateTimeOffset T0 = new(2031, 6, 1, 8, 0, 0, TimeSpan.Zero);

    private static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => Fanfare.Emulator.Tests.Hosting.CommandLineTests.RunAsync(args);

    private static string[] FreePortArgs() => Fanfare.Emulator.Tests.Hosting.CommandLineTests.FreePortArgs();

    [Fact]
    public async Task An_emulator_started_with_a_snapshot_file_holds_that_state_instead_of_the_seed()
    {
        using var dir = SnapshotKit.TempDirectory();
        var file = Path.Combine(dir.Path, "state.json");
        string snapshot, guestToken, sandboxId;
        OrgKeys sandboxKeys;
        await using (var source = await EmulatorServer.StartAsync())
        {
            await source.FreezeClockAsync(T0);
            var org = await source.DemoOrgAsync();
            (_, guestToken, _) = await source.GuestAsync(org.PublishableKey);
            var sandbox = await source.CreateSandboxAsync("from-a-file", T0.AddDays(1));
            sandboxId = sandbox["id"]!.GetValue<string>();
            sandboxKeys = SnapshotKit.Keys(sandbox);
            snapshot = await source.ExportAsync();
        }
        await File.WriteAllTextAsync(file, snapshot);

        await using var started = await EmulatorServer.StartAsync(o => o.SnapshotFile = file);
        Assert.Equal(snapshot, await started.ExportAsync());
        var org2 = await started.DemoOrgAsync();
        Assert.Equal(200, (await started.Consumer.GetAsync("/consumers/me", Pk(org2.PublishableKey, guestToken))).Code);
        Assert.Equal(T0, DateTimeOffset.Parse((await started.Control.GetJsonAsync("/_emulator/clock"))["now"]!.GetValue<string>()));
        var clock = await started.SandboxClockAsync(sandboxId);
        Assert.Equal("frozen", clock["mode"]!.GetValue<string>());
        Assert.Equal(T0.AddDays(1), DateTimeOffset.Parse(clock["now"]!.GetValue<string>()));
        var (_, sandboxGuest, _) = await started.GuestAsync(sandboxKeys.PublishableKey);
        Assert.Equal(200, (await started.Consumer.GetAsync("/consumers/me", Pk(sandboxKeys.PublishableKey, sandboxGuest))).Code);
    }

    [Fact]
    public async Task A_snapshot_file_that_is_missing_or_not_a_snapshot_is_one_line_on_stderr_and_exit_code_2()
    {
        var (code, _, err) = await RunAsync("--snapshot", "no/such/state.json", "--in-memory", "--no-banner");
        Assert.Equal(EmulatorCommandLine.BadConfiguration, code);
        Assert.Contains("snapshot file not found", Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        using var dir = SnapshotKit.TempDirectory();
        foreach (var (content, expected) in new[]
                 {
                     ("{ not json", "Malformed JSON"),
                     ("{\"format\":\"fanfare-emulator-snapshot\",\"formatVersion\":7}", "Unsupported snapshot format version"),
                 })
        {
            var file = Path.Combine(dir.Path, "bad.json");
            await File.WriteAllTextAsync(file, content);
            (code, _, err) = await RunAsync([.. FreePortArgs(), "--snapshot", file, "--in-memory", "--no-banner"]);
            Assert.Equal(EmulatorCommandLine.BadConfiguration, code);
            var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("snapshot file", line);
            Assert.Contains(expected, line);
        }
    }

    [Fact]
    public async Task The_help_lists_the_snapshot_option()
    {
        var (code, output, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("--snapshot", output);
    }

    [Fact]
    public async Task A_sandbox_clock_keeps_its_setting_across_a_restart_on_a_data_directory()
    {
        using var dir = SnapshotKit.TempDirectory();
        void OnDisk(EmulatorOptions o) { o.InMemory = false; o.DataDirectory = dir.Path; }
        string frozenId, offsetId, resetId;
        double offsetSeconds;
        await using (var first = await EmulatorServer.StartAsync(OnDisk))
        {
            // created on system time, then frozen and advanced
            frozenId = (await first.CreateSandboxAsync("restart-frozen"))["id"]!.GetValue<string>();
            await first.SandboxClockPostAsync(frozenId, "freeze", new JsonObject { ["at"] = T0.ToString("O") });
            await first.SandboxClockPostAsync(frozenId, "advance", new JsonObject { ["seconds"] = 3600 });
            // created frozen, then set forward and reset to system time: mode offset is lost only by the reset
            offsetId = (await first.CreateSandboxAsync("restart-offset"))["id"]!.GetValue<string>();
            var set = await first.SandboxClockPostAsync(offsetId, "set", new JsonObject { ["now"] = DateTimeOffset.UtcNow.AddDays(10).ToString("O") });
            Assert.Equal("offset", set["mode"]!.GetValue<string>());
            offsetSeconds = set["offsetSeconds"]!.GetValue<double>();
            resetId = (await first.CreateSandboxAsync("restart-reset", T0))["id"]!.GetValue<string>();
            await first.SandboxClockPostAsync(resetId, "reset");
        }
        await using var second = await EmulatorServer.StartAsync(OnDisk);
        var frozen = await second.SandboxClockAsync(frozenId);
        Assert.Equal("frozen", frozen["mode"]!.GetValue<string>());
        Assert.Equal(T0.AddHours(1), DateTimeOffset.Parse(frozen["now"]!.GetValue<string>()));
        var offset = await second.SandboxClockAsync(offsetId);
        Assert.Equal("offset", offset["mode"]!.GetValue<string>());
        Assert.InRange(offset["offsetSeconds"]!.GetValue<double>(), offsetSeconds - 1, offsetSeconds + 1);
        Assert.Equal("system", (await second.SandboxClockAsync(resetId))["mode"]!.GetValue<string>()); // not its initial frozen mode
        // and the listing shows the same
        var listed = (await second.Control.GetJsonAsync("/_emulator/sandboxes"))["sandboxes"]!.AsArray();
        Assert.Equal("frozen", listed.Single(s => s!["id"]!.GetValue<string>() == frozenId)!["clock"]!["mode"]!.GetValue<string>());
    }
}
