using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Draws;

/// <summary>Deleting a sequence archives its distributions: their scheduled work (the draw at drawAt) no longer runs.</summary>
public sealed class ArchivedDrawTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    [Fact]
    public async Task A_draw_archived_by_deleting_its_sequence_is_never_drawn_and_refuses_entries()
    {
        var org = await DaKit.SetUpAsync(emu);
        var draw = await DaKit.CreateAsync(emu, org, "/draws", new JsonObject
        {
            ["name"] = "Archived", ["drawAt"] = DaKit.Iso(DaKit.T0.AddMinutes(10)), ["winnerCount"] = 1,
        });
        var id = draw["id"]!.GetValue<string>();
        var (_, token) = await DaKit.VerifiedAsync(emu, org.PublishableKey, "archived@draw.test");
        (await emu.Consumer.PostJsonAsync($"/draws/{id}/enter", null, HttpClientExtensions.Pk(org.PublishableKey, token))).EnsureStatus(200);

        (await emu.Admin.SendJsonAsync(HttpMethod.Delete, $"/sequences/{DaKit.SequenceId}", null, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);
        await emu.AdvanceClockAsync(15 * 60);

        Assert.Empty(DaKit.Events(emu, "draw.completed"));
        var status = (await emu.Consumer.GetAsync($"/draws/{id}/status", HttpClientExtensions.Pk(org.PublishableKey, token))).EnsureStatus(200);
        Assert.Equal("ENTERED", status["status"].GetValue<string>());
        var late = await emu.Consumer.PostJsonAsync($"/draws/{id}/enter", null,
            HttpClientExtensions.Pk(org.PublishableKey, (await DaKit.VerifiedAsync(emu, org.PublishableKey, "late@draw.test")).AccessToken));
        Assert.Equal(400, late.Code);
    }
}
