using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Control.Dashboard;

/// <summary><c>GET /_emulator/info</c> over HTTP (the dashboard's own tests drive it in a browser).</summary>
public sealed class InfoTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static long Tx(JsonNode store) => store["transactions"]!.GetValue<long>();
    private static long Commits(JsonNode store) => store["commits"]!.GetValue<long>();

    [Fact]
    public async Task The_store_counts_write_transactions_and_file_commits_since_start_and_reads_count_nothing()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(); // no scheduled job writes while the test counts
        var before = (await emu.Control.GetJsonAsync("/_emulator/info"))["store"]!;
        Assert.True(Commits(before) >= 2 && Tx(before) >= Commits(before), before.ToJsonString()); // the seed and the reset, at least

        // Writes: three guest sign-ins, a transaction each.
        var pk = (await emu.DemoOrgAsync()).PublishableKey;
        for (int i = 0; i < 3; i++) await emu.GuestAsync(pk);
        var after = (await emu.Control.GetJsonAsync("/_emulator/info"))["store"]!;
        Assert.True(Tx(after) - Tx(before) >= 3, $"{before.ToJsonString()} → {after.ToJsonString()}");
        Assert.InRange(Commits(after) - Commits(before), 1, Tx(after) - Tx(before));

        // Reads write nothing.
        await emu.Control.GetJsonAsync("/_emulator/jobs");
        await emu.DemoOrgAsync();
        var idle = (await emu.Control.GetJsonAsync("/_emulator/info"))["store"]!;
        Assert.Equal(Tx(after), Tx(idle));
        Assert.Equal(Commits(after), Commits(idle));
    }
}
