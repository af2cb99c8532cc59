using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Fanfare.Emulator.Tests.Webhooks;

/// <summary>One request a <see cref="WebhookReceiver"/> got.</summary>
public sealed record ReceivedWebhook(string Path, Dictionary<string, string> Headers, string Body, int AnsweredWith)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
    public string Header(string name) => Headers.TryGetValue(name, out var v) ? v : throw new Xunit.Sdk.XunitException($"header {name} missing; got {string.Join(", ", Headers.Keys)}");
    public long Timestamp => long.Parse(Header("X-Fanfare-Timestamp"));
}

/// <summary>
/// A merchant's webhook receiver: a tiny Kestrel app on a free loopback port that records every request and answers
/// with the status <see cref="Respond"/> picks (200 by default).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<ReceivedWebhook> _received = [];

    /// <summary>Status to answer the n-th request (0-based) with.</summary>
    public Func<int, int> Respond { get; set; } = _ => 200;
    public string Url { get; }

    private WebhookReceiver(WebApplication app, string url) { _app = app; Url = url; }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.Run(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            int status;
            lock (self!._received)
            {
                status = self.Respond(self._received.Count);
                self._received.Add(new ReceivedWebhook(ctx.Request.Path, headers, body, status));
            }
            ctx.Response.StatusCode = status;
            await ctx.Response.WriteAsync(status is >= 200 and < 300 ? "OK" : "nope " + status);
        });
        await app.StartAsync();
        self = new WebhookReceiver(app, app.Urls.First().Replace("[::1]", "127.0.0.1") + "/hooks/fanfare");
        return self;
    }

    public List<ReceivedWebhook> Received
    {
        get { lock (_received) return _received.ToList(); }
    }

    public void Clear()
    {
        lock (_received) _received.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Signature checks written from the docs (behavior.md §7.2), independently of the emulator's signer.</summary>
public static class DocsSignature
{
    public static string HmacHex(string secret, string message)
    {
        using var h = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        return string.Concat(h.ComputeHash(Encoding.UTF8.GetBytes(message)).Select(b => b.ToString("x2")));
    }

    /// <summary>Canonical: <c>sha256=</c> + hex HMAC over <c>"{X-Fanfare-Timestamp}.{raw body}"</c>.</summary>
    public static bool VerifyV1(string secret, ReceivedWebhook r) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(r.Header("X-Fanfare-Signature")),
            Encoding.ASCII.GetBytes("sha256=" + HmacHex(secret, r.Header("X-Fanfare-Timestamp") + "." + r.Body)));

    /// <summary>Variant: hex HMAC over the raw body, no prefix.</summary>
    public static bool VerifyBodyHex(string secret, ReceivedWebhook r) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(r.Header("X-Fanfare-Signature")), Encoding.ASCII.GetBytes(HmacHex(secret, r.Body)));
}
