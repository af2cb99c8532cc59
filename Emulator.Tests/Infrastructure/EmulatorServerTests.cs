using System.Net;
using System.Net.Sockets;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary>
/// The test servers pick four free ports and then start on them; a port is free when picked, not reserved, so a parallel
/// test's process can take it in between. The server then starts again on new ports — in process (Kestrel's bind
/// failure) and as the external emulator of <c>FANFARE_TEST_EMULATOR</c> (its one "address already in use" line and exit
/// code 3). Until the external branch retried, one such race failed a whole fixture (every <c>.http</c> file, CI of
/// <c>fb7674d</c>).
/// </summary>
public sealed class EmulatorServerTests
{
    [Fact]
    public async Task A_port_taken_between_picking_and_binding_is_retried_on_new_ports()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var busy = ((IPEndPoint)taken.LocalEndpoint).Port;
        EmulatorServer.FirstPortsForTest.Value = () => [busy, busy, busy, busy];
        try
        {
            await using var server = await EmulatorServer.StartAsync();
            Assert.NotEqual(busy, server.AdminPort);
            using var health = await server.Control.GetAsync("/_emulator/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            EmulatorServer.FirstPortsForTest.Value = null;
        }
    }
}
