using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Control;

/// <summary><c>GET /_emulator/health</c> is answered before routing (issue 15: readiness probes during start-up cost
/// nothing): the same status, content type and body as the endpoint, ready (200) and starting (503).</summary>
public sealed class HealthTests
{
    [Trait("Category", "InProcess")]
    [Fact]
    public async Task Readiness_answers_200_ready_and_503_starting_with_the_version()
    {
        await using var emu = await EmulatorServer.StartAsync();
        var version = EmulatorState.Version;
        var ready = await emu.Admin.GetAsync("/_emulator/health");
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("application/json; charset=utf-8", ready.Content.Headers.ContentType!.ToString());
        Assert.Equal($$"""{"status":"ready","version":"{{version}}"}""", await ready.Content.ReadAsStringAsync());

        var state = emu.Services.GetRequiredService<EmulatorState>();
        state.Ready = false;
        try
        {
            foreach (var client in new[] { emu.Admin, emu.Consumer, emu.Beacon, emu.Checkout })
            {
                var starting = await client.GetAsync("/_emulator/health");
                Assert.Equal(503, (int)starting.StatusCode);
                Assert.Equal("application/json; charset=utf-8", starting.Content.Headers.ContentType!.ToString());
                Assert.Equal($$"""{"status":"starting","version":"{{version}}"}""", await starting.Content.ReadAsStringAsync());
                var live = await client.GetAsync("/health");
                Assert.Equal(503, (int)live.StatusCode);
            }
        }
        finally { state.Ready = true; }
        Assert.Equal(200, (int)(await emu.Consumer.GetAsync("/_emulator/health")).StatusCode);
    }
}
