using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Messaging;

/// <summary>The fake inbox (<c>/_emulator/inbox</c>) and SMS sink (<c>/_emulator/sms</c>).</summary>
public sealed class InboxTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private async Task RequestEmailAsync(string pk, string email) =>
        (await emu.RequestOtpAsync(pk, new JsonObject { ["email"] = email })).EnsureStatus(200);

    private async Task RequestSmsAsync(string pk, string phone) =>
        (await emu.RequestOtpAsync(pk, new JsonObject { ["phone"] = phone })).EnsureStatus(200);

    [Fact]
    public async Task Inbox_lists_messages_newest_first_with_the_documented_fields()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var t0 = await emu.FreezeClockAsync(new DateTimeOffset(2030, 4, 4, 10, 0, 0, TimeSpan.Zero));
        await RequestEmailAsync(org.PublishableKey, "one@example.com");
        await emu.AdvanceClockAsync(5);
        await RequestEmailAsync(org.PublishableKey, "two@example.com");
        await emu.AdvanceClockAsync(5);
        await RequestEmailAsync(org.PublishableKey, "one@example.com");

        var all = (await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray();
        Assert.Equal(["one@example.com", "two@example.com", "one@example.com"], all.Select(m => m!["to"]!.GetValue<string>()));
        Assert.Equal([t0.AddSeconds(10), t0.AddSeconds(5), t0], all.Select(m => DateTimeOffset.Parse(m!["sentAt"]!.GetValue<string>())));

        var mine = (await emu.Control.GetJsonAsync("/_emulator/inbox?to=ONE@example.com"))["messages"]!.AsArray();
        Assert.Equal(2, mine.Count);
        var m = mine[0]!.AsObject();
        Assert.Equal(["code", "from", "html", "id", "organizationId", "relay", "sentAt", "subject", "text", "to"], m.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(org.Id, m["organizationId"]!.GetValue<string>());
        Assert.Contains(m["code"]!.GetValue<string>(), m["subject"]!.GetValue<string>());
        Assert.Contains(m["code"]!.GetValue<string>(), m["html"]!.GetValue<string>());
        Assert.Contains("@", m["from"]!.GetValue<string>());

        var byId = await emu.Control.GetJsonAsync($"/_emulator/inbox/{m["id"]!.GetValue<string>()}");
        Assert.True(JsonNode.DeepEquals(m, byId));
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/inbox?to=nobody@example.com"))["messages"]!.AsArray());
    }

    [Fact]
    public async Task Latest_waits_for_a_message_sent_later()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var waiting = emu.Control.GetAsync("/_emulator/inbox/latest?to=patient%40example.com&waitSeconds=10", null);
        var sender = Task.Run(async () =>
        {
            await Task.Delay(300);
            await RequestEmailAsync(org.PublishableKey, "patient@example.com");
        });
        var r = (await waiting).EnsureStatus(200);
        await sender;
        Assert.Equal("patient@example.com", r["to"].GetValue<string>());
        Assert.Matches("^[0-9]{6}$", r["code"].GetValue<string>());
    }

    [Fact]
    public async Task Latest_is_404_when_there_is_none()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.Control.GetAsync("/_emulator/inbox/latest?to=nobody@example.com", null)).AssertBody(404, """{"error":"Not found"}""");
        await RequestEmailAsync(org.PublishableKey, "somebody@example.com");
        (await emu.Control.GetAsync("/_emulator/inbox/latest?to=nobody@example.com&waitSeconds=0.3", null)).AssertBody(404, """{"error":"Not found"}""");
        (await emu.Control.GetAsync("/_emulator/sms/latest", null)).AssertBody(404, """{"error":"Not found"}""");
        (await emu.Control.GetAsync("/_emulator/inbox/msg_nope/raw", null)).AssertBody(404, """{"error":"Not found"}""");
    }

    [Fact]
    public async Task Raw_is_an_rfc822_message_with_headers()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await RequestEmailAsync(org.PublishableKey, "raw@example.com");
        var m = await emu.Control.GetJsonAsync("/_emulator/inbox/latest?to=raw@example.com");
        var raw = await emu.Control.GetAsync($"/_emulator/inbox/{m["id"]!.GetValue<string>()}/raw", null);
        Assert.Equal(200, raw.Code);
        Assert.Equal("message/rfc822", raw.ContentHeaders?.ContentType?.MediaType);
        var headerBlock = raw.Text[..raw.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        var headers = headerBlock.Split("\r\n").Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(m["from"]!.GetValue<string>(), headers["From"]);
        Assert.Equal("raw@example.com", headers["To"]);
        Assert.Equal(m["subject"]!.GetValue<string>(), headers["Subject"]);
        Assert.Contains("Date", headers.Keys);
    }

    [Fact]
    public async Task Delete_empties_the_inbox()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await RequestEmailAsync(org.PublishableKey, "gone@example.com");
        await RequestEmailAsync(org.PublishableKey, "gone2@example.com");
        await RequestSmsAsync(org.PublishableKey, "+12025550123");
        var r = await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/inbox", null);
        Assert.Equal(204, r.Code);
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray());
        Assert.Single((await emu.Control.GetJsonAsync("/_emulator/sms"))["messages"]!.AsArray()); // SMS kept
    }

    [Fact]
    public async Task Sms_sink_has_the_same_operations_with_body()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await RequestSmsAsync(org.PublishableKey, "+12025550123");
        await RequestSmsAsync(org.PublishableKey, "+447700900123");

        var all = (await emu.Control.GetJsonAsync("/_emulator/sms"))["messages"]!.AsArray();
        Assert.Equal(["+447700900123", "+12025550123"], all.Select(m => m!["to"]!.GetValue<string>()));
        var m = (await emu.Control.GetJsonAsync("/_emulator/sms?to=%2B12025550123"))["messages"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["body", "code", "from", "id", "organizationId", "sentAt", "to"], m.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Contains(m["code"]!.GetValue<string>(), m["body"]!.GetValue<string>());
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/inbox"))["messages"]!.AsArray()); // no email for a phone

        var waiting = emu.Control.GetAsync("/_emulator/sms/latest?to=%2B12025550199&waitSeconds=10", null);
        var sender = Task.Run(async () => { await Task.Delay(300); await RequestSmsAsync(org.PublishableKey, "+12025550199"); });
        Assert.Equal("+12025550199", (await waiting).EnsureStatus(200)["to"].GetValue<string>());
        await sender;

        Assert.Equal(204, (await emu.Control.SendAsync(HttpMethod.Delete, "/_emulator/sms", null)).Code);
        Assert.Empty((await emu.Control.GetJsonAsync("/_emulator/sms"))["messages"]!.AsArray());
    }

    [Fact]
    public async Task Raw_parses_back_with_mimekit_into_multipart_alternative_with_the_code()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await RequestEmailAsync(org.PublishableKey, "mime@example.com");
        var m = await emu.Control.GetJsonAsync("/_emulator/inbox/latest?to=mime@example.com");
        var code = m["code"]!.GetValue<string>();
        var raw = await emu.Control.GetAsync($"/_emulator/inbox/{m["id"]!.GetValue<string>()}/raw", null);
        var parsed = MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(raw.Text)));

        var from = Assert.IsType<MimeKit.MailboxAddress>(Assert.Single(parsed.From));
        Assert.Equal(org.Name, from.Name);
        Assert.EndsWith(".fanfare.local", from.Address);
        Assert.Equal("mime@example.com", Assert.IsType<MimeKit.MailboxAddress>(Assert.Single(parsed.To)).Address);
        Assert.Equal(m["subject"]!.GetValue<string>(), parsed.Subject);
        Assert.Equal($"{m["id"]!.GetValue<string>()}@emulator.fanfare.local", parsed.MessageId);
        var alternative = Assert.IsType<MimeKit.MultipartAlternative>(parsed.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        Assert.Contains(code, parsed.TextBody);
        Assert.Contains(code, parsed.HtmlBody);
        Assert.Equal("disabled", m["relay"]!["status"]!.GetValue<string>()); // no SmtpHost configured
        Assert.DoesNotContain("\n", raw.Text.Replace("\r\n", ""));      // CRLF line ends only
    }

    [Fact]
    public async Task Display_names_are_quoted_and_non_ascii_subjects_encoded_and_round_tripped()
    {
        var seed = Path.Combine(Path.GetTempPath(), $"fanfare-mime-seed-{Guid.NewGuid():N}.json");
        File.WriteAllText(seed, """{"organizations":[{"name":"Acme, Inc. — Bücher & Café 東京","slug":"acme"}]}""");
        try
        {
            await using var acme = await EmulatorServer.StartAsync(o => o.SeedFile = seed);
            var org = await acme.DemoOrgAsync();
            (await acme.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "intl@example.com" })).EnsureStatus(200);
            var m = await acme.Control.GetJsonAsync("/_emulator/inbox/latest?to=intl@example.com");
            var raw = (await acme.Control.GetAsync($"/_emulator/inbox/{m["id"]!.GetValue<string>()}/raw", null)).Text;

            var headers = raw[..raw.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
            Assert.All(headers, c => Assert.True(c < 128, "headers are 7-bit (RFC 2047 encoded words)"));
            Assert.Contains("=?utf-8?", headers, StringComparison.OrdinalIgnoreCase);
            Assert.All(headers.Split("\r\n"), line => Assert.True(line.Length <= 998));

            var parsed = MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(raw)));
            var from = Assert.IsType<MimeKit.MailboxAddress>(Assert.Single(parsed.From)); // one mailbox: the comma was quoted
            Assert.Equal("Acme, Inc. — Bücher & Café 東京", from.Name);
            Assert.Equal("no-reply@acme.fanfare.local", from.Address);
            Assert.Equal(m["subject"]!.GetValue<string>(), parsed.Subject);
            Assert.Contains("Bücher & Café 東京", parsed.Subject);
            Assert.Contains(m["code"]!.GetValue<string>(), parsed.TextBody);
        }
        finally { File.Delete(seed); }
    }
}
