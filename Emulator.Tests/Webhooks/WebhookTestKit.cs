using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Webhooks;

/// <summary>HTTP shortcuts for the webhook tests.</summary>
public static class WebhookTestKit
{
    /// <summary><c>POST /webhooks</c> with a secret key → the endpoint.</summary>
    public static async Task<JsonNode> CreateEndpointAsync(this EmulatorServer emu, string secretKey, string url, string[] events, JsonObject? extra = null)
    {
        var body = new JsonObject { ["url"] = url, ["events"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()) };
        foreach (var (k, v) in extra ?? []) body[k] = v?.DeepClone();
        return (await emu.Admin.PostJsonAsync("/webhooks", body, HttpClientExtensions.Sk(secretKey))).EnsureStatus(200).Json!;
    }

    /// <summary><c>POST /webhooks/test</c> → the delivery reference (202).</summary>
    public static async Task<JsonNode> SendTestAsync(this EmulatorServer emu, string secretKey, string endpointId, string eventType) =>
        (await emu.Admin.PostJsonAsync("/webhooks/test", new JsonObject { ["endpointId"] = endpointId, ["eventType"] = eventType },
            HttpClientExtensions.Sk(secretKey))).EnsureStatus(202).Json!;

    /// <summary><c>GET /_emulator/webhooks/deliveries?…</c> → the deliveries, newest first.</summary>
    public static async Task<JsonArray> DeliveriesAsync(this EmulatorServer emu, string query = "") =>
        (await emu.Control.GetJsonAsync("/_emulator/webhooks/deliveries" + (query.Length > 0 ? "?" + query : "")))["deliveries"]!.AsArray();

    public static async Task<JsonNode> DeliveryAsync(this EmulatorServer emu, string id) =>
        await emu.Control.GetJsonAsync("/_emulator/webhooks/deliveries/" + id);

    /// <summary>Runs what is due now, at once (the background pump would too, within its interval: frozen stops time, not work).</summary>
    public static Task RunDueAsync(this EmulatorServer emu) => emu.AdvanceClockAsync(0);

    public static string S(this JsonNode? n) => n!.GetValue<string>();
}
