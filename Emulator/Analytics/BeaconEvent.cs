using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Analytics;

/// <summary>
/// One event the Beacon API accepted (<c>POST /events</c>, <c>POST /events/batch</c>; behavior.md §10.2), kept so the
/// control plane, loyalty, consumer timelines and <c>POST /analytics/query</c> can read what really happened.
/// <see cref="ReceivedAt"/> is the emulator clock at receipt (UTC).
/// </summary>
public sealed class BeaconEvent : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    /// <summary><c>test</c> or <c>live</c>: the mode of the key that sent it.</summary>
    public string Environment { get; set; } = "test";
    /// <summary>The contract's <c>eventName</c> (e.g. <c>page_view</c>, <c>purchase</c>).</summary>
    public string EventName { get; set; } = "";
    public string? ConsumerId { get; set; }
    public string? SessionId { get; set; }
    /// <summary>An order of this emulator named by a <c>purchase</c> event, when it exists.</summary>
    public string? OrderId { get; set; }
    public string? ExperienceId { get; set; }
    public string? DistributionId { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    /// <summary>The event body exactly as sent.</summary>
    public JsonObject Body { get; set; } = [];
}

/// <summary>Told of every accepted beacon event inside the transaction that stored it (loyalty earns from them).</summary>
public interface IBeaconEventSubscriber
{
    void OnBeaconEvent(BeaconEvent evt);
}
