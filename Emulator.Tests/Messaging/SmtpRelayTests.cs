using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Messaging;

/// <summary>
/// With <c>SmtpHost</c>/<c>SmtpPort</c> set, every email the inbox receives is also relayed over SMTP. The SMTP server is
/// aiosmtpd (Debian <c>python3-aiosmtpd</c>), whose default handler prints each message to stdout. A machine without it
/// fails this test (CI installs it): <c>apt-get install -y python3-aiosmtpd</c>.
/// </summary>
public sealed class SmtpRelayTests
{
    private const string Python = "/usr/bin/python3";

    [Fact]
    public async Task Otp_email_is_relayed_to_the_smtp_server()
    {
        RequireAiosmtpd();
        var port = FreePort();
        var output = new StringBuilder();
        var psi = new ProcessStartInfo(Python)
        {
            ArgumentList = { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}" },
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["PYTHONUNBUFFERED"] = "1"; // stdout is a pipe: print each message at once
        using var smtp = Process.Start(psi) ?? throw new Xunit.Sdk.XunitException("could not start aiosmtpd");
        smtp.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        smtp.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        smtp.BeginOutputReadLine();
        smtp.BeginErrorReadLine();
        try
        {
            await WaitForListenerAsync(port, smtp, output);

            await using var emu = await EmulatorServer.StartAsync(o => { o.SmtpHost = "127.0.0.1"; o.SmtpPort = port; });
            var org = await emu.DemoOrgAsync();
            (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "relay@example.com" })).EnsureStatus(200);
            var code = await emu.LatestCodeAsync("relay@example.com");

            var waited = Stopwatch.StartNew();
            string Seen() { lock (output) return output.ToString(); }
            while (!(Seen().Contains(code) && Seen().Contains("relay@example.com")) && waited.Elapsed < TimeSpan.FromSeconds(20))
                await Task.Delay(100);
            Assert.True(Seen().Contains(code), $"code {code} not seen by the SMTP server; its output:\n{Seen()}");
            Assert.Contains("relay@example.com", Seen());
            Assert.Contains("multipart/alternative", Seen()); // the MimeMessage itself went over the wire

            // The outcome is on the message.
            var status = "";
            while (status != "sent" && waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                status = (await emu.Control.GetJsonAsync("/_emulator/inbox/latest?to=relay@example.com"))["relay"]!["status"]!.GetValue<string>();
                if (status != "sent") await Task.Delay(100);
            }
            Assert.Equal("sent", status);
        }
        finally
        {
            if (!smtp.HasExited) smtp.Kill(entireProcessTree: true);
            await smtp.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_relay_that_is_down_never_fails_the_call_and_the_failure_shows_on_the_message()
    {
        var port = FreePort(); // nothing listens there
        await using var emu = await EmulatorServer.StartAsync(o => { o.SmtpHost = "127.0.0.1"; o.SmtpPort = port; o.SmtpTimeoutSeconds = 2; });
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "down@example.com" })).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("down@example.com");
        Assert.Matches("^[0-9]+$", code);

        var waited = Stopwatch.StartNew();
        JsonNode relay;
        do
        {
            relay = (await emu.Control.GetJsonAsync("/_emulator/inbox/latest?to=down@example.com"))["relay"]!;
            if (relay["status"]!.GetValue<string>() == "failed") break;
            await Task.Delay(100);
        } while (waited.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Equal("failed", relay["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(relay["error"]?.GetValue<string>()));
    }

    /// <summary>Fails (never skips) when aiosmtpd is missing.</summary>
    private static void RequireAiosmtpd()
    {
        const string help = "The SMTP relay test needs aiosmtpd for /usr/bin/python3: apt-get install -y python3-aiosmtpd";
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Python) { ArgumentList = { "-c", "import aiosmtpd" }, RedirectStandardError = true, UseShellExecute = false })!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) Assert.Fail($"{help}\n{err}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Assert.Fail($"{help} ({Python}: {ex.Message})");
        }
    }

    private static async Task WaitForListenerAsync(int port, Process smtp, StringBuilder output)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            if (smtp.HasExited) { lock (output) Assert.Fail($"aiosmtpd exited with {smtp.ExitCode}:\n{output}"); }
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        lock (output) Assert.Fail($"aiosmtpd did not listen on {port}:\n{output}");
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
