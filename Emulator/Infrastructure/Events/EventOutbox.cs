using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Infrastructure.Events;

/// <summary>
/// A platform event, recorded when the transition happens (behavior.md §7.4). The webhook envelope is
/// <c>{id, type, timestamp, organizationId, data}</c>; <see cref="Id"/> is the <c>whk_…</c> dedupe id.
/// </summary>
public sealed class OutboxEvent : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string Type { get; set; } = "";
    public DateTimeOffset Timestamp { get; set; }
    public JsonObject Data { get; set; } = [];

    /// <summary>The webhook envelope of behavior.md §7.1.</summary>
    public JsonObject Envelope() => new()
    {
        ["id"] = Id, ["type"] = Type, ["timestamp"] = Json.Iso(Timestamp), ["organizationId"] = OrganizationId, ["data"] = Data.DeepClone(),
    };
}

/// <summary>Told of every recorded event, inside the transaction that recorded it (the webhook module schedules deliveries).</summary>
public interface IEventSubscriber
{
    void OnEvent(OutboxEvent evt);
}

/// <summary>The outbox every engine records its events in.</summary>
public sealed class EventOutbox(DocumentStore store, IdGenerator ids, ClockResolver clocks, IEnumerable<IEventSubscriber> subscribers)
{
    /// <summary>Records <paramref name="type"/> with <paramref name="data"/> for an organization, stamped by the clock.</summary>
    public OutboxEvent Record(string organizationId, string type, JsonObject data)
    {
        return store.Transaction(() =>
        {
            var evt = new OutboxEvent
            {
                Id = ids.NewPrefixed("whk_"), OrganizationId = organizationId, Type = type,
                Timestamp = clocks.For(organizationId).GetUtcNow(), Data = data,
            };
            store.Put(evt);
            foreach (var s in subscribers) s.OnEvent(evt);
            return evt;
        });
    }
}
