using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Webhooks;

/// <summary>
/// A merchant's webhook endpoint (<c>whe_…</c>, behavior.md §7.1): where events of the subscribed types are POSTed,
/// signed with <see cref="Secret"/> under <see cref="SignatureScheme"/>.
/// </summary>
public sealed class WebhookEndpoint : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    /// <summary>Absolute <c>http://</c> or <c>https://</c> URL (plain HTTP is accepted: this is a local emulator).</summary>
    public string Url { get; set; } = "";
    /// <summary>Subscribed event types; <c>"*"</c> means every type.</summary>
    public List<string> Events { get; set; } = [];
    /// <summary>Signing secret, <c>whsec_…</c>.</summary>
    public string Secret { get; set; } = "";
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary><c>v1</c> (<c>sha256=</c> + hex HMAC over <c>"{timestamp}.{body}"</c>) or <c>body-hex</c> (hex HMAC over the body).</summary>
    public string SignatureScheme { get; set; } = WebhookSignature.V1;
    /// <summary>Why the endpoint is disabled: <c>manual</c>, <c>gone</c> (it answered 410) or <c>consecutive_failures</c>.</summary>
    public string? DisabledReason { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    /// <summary>Failed attempts in a row since the last success (reset by a 2xx or by re-enabling).</summary>
    public int ConsecutiveFailures { get; set; }
    /// <summary>Times of the latest failed attempts of the current streak (at most 100), for the 7-day auto-disable rule.</summary>
    public List<DateTimeOffset> RecentFailures { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public bool Subscribes(string eventType) => Events.Contains("*") || Events.Contains(eventType);
}

/// <summary>
/// One event on its way to one endpoint (<c>whd_…</c>, sent as <c>X-Fanfare-Delivery-Id</c>): up to 8 attempts on the
/// emulator clock. <see cref="Payload"/> is the exact body every attempt sends.
/// </summary>
public sealed class WebhookDelivery : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string EndpointId { get; set; } = "";
    /// <summary>The envelope id (<c>whk_…</c>), the merchant's dedupe key.</summary>
    public string EventId { get; set; } = "";
    public string EventType { get; set; } = "";
    public DateTimeOffset EventTimestamp { get; set; }
    /// <summary>The JSON envelope as sent (raw text, signed byte for byte).</summary>
    public string Payload { get; set; } = "";
    /// <summary><c>event</c> (recorded by an engine), <c>test</c>, <c>replay</c> or <c>redeliver</c>.</summary>
    public string Source { get; set; } = "event";
    /// <summary>The delivery this one repeats (control-plane redelivery).</summary>
    public string? RedeliveryOf { get; set; }
    /// <summary><c>pending</c>, <c>delivered</c> or <c>failed</c>.</summary>
    public string Status { get; set; } = WebhookDeliveryStatus.Pending;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? LastError { get; set; }
    public List<WebhookAttempt> Attempts { get; set; } = [];
}

public static class WebhookDeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public static readonly string[] All = [Pending, Delivered, Failed];
}

/// <summary>One HTTP attempt of a delivery, as the control plane shows it.</summary>
public sealed class WebhookAttempt
{
    /// <summary>1-based attempt number (1…8).</summary>
    public int Attempt { get; set; }
    public DateTimeOffset AttemptedAt { get; set; }
    public string Url { get; set; } = "";
    public Dictionary<string, string> RequestHeaders { get; set; } = [];
    public string RequestBody { get; set; } = "";
    /// <summary>HTTP status, or null when no response came (connection error, timeout).</summary>
    public int? ResponseStatus { get; set; }
    public Dictionary<string, string>? ResponseHeaders { get; set; }
    public string? ResponseBody { get; set; }
    /// <summary>Real (wall-clock) milliseconds the request took.</summary>
    public double DurationMs { get; set; }
    /// <summary><c>succeeded</c>, <c>failed</c> or <c>gone</c> (410: retries stop).</summary>
    public string Outcome { get; set; } = "";
    public string? Error { get; set; }
}
