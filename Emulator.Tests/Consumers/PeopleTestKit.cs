using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Fanfare.Emulator.Analytics;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Commerce;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Consumers;

/// <summary>
/// Orders and beacon events for the consumers/audiences/loyalty tests. Checkout and the beacon endpoints are another
/// engineer's, so these put the documents into the store the way those features will (an <c>order.completed</c> event
/// recorded in the outbox; a stored <see cref="BeaconEvent"/> handed to its subscribers).
/// </summary>
public static class PeopleTestKit
{
    public static DocumentStore Store(this EmulatorServer emu) => emu.Services.GetRequiredService<DocumentStore>();

    /// <summary>A completed order of <paramref name="amount"/> (decimal string), with its <c>order.completed</c> event.</summary>
    public static string CompleteOrder(this EmulatorServer emu, string orgId, string consumerId, string amount, string? orderId = null)
    {
        var store = emu.Store();
        var now = emu.Services.GetRequiredService<ClockResolver>().For(orgId).GetUtcNow();
        var id = orderId ?? Guid.NewGuid().ToString();
        store.Transaction(() =>
        {
            store.Put(new Order
            {
                Id = id, OrganizationId = orgId, ConsumerId = consumerId, Status = OrderStatuses.Completed, TotalAmount = amount,
                CurrencyCode = "USD", CreatedAt = now, CompletedAt = now,
            });
            emu.Services.GetRequiredService<EventOutbox>().Record(orgId, "order.completed", new JsonObject
            {
                ["orderId"] = id, ["consumerId"] = consumerId, ["completedAt"] = Fanfare.Emulator.Infrastructure.Json.Iso(now), ["amount"] = amount, ["currencyCode"] = "USD",
            });
        });
        return id;
    }

    /// <summary>A beacon event as the beacon API would store it.</summary>
    public static BeaconEvent Beacon(this EmulatorServer emu, string orgId, string consumerId, string eventName, JsonObject? props = null, string? orderId = null)
    {
        var store = emu.Store();
        var now = emu.Services.GetRequiredService<ClockResolver>().For(orgId).GetUtcNow();
        var evt = new BeaconEvent
        {
            Id = Guid.NewGuid().ToString(), OrganizationId = orgId, EventName = eventName, ConsumerId = consumerId, OrderId = orderId, ReceivedAt = now,
            Body = new JsonObject
            {
                ["organizationId"] = orgId, ["eventId"] = Guid.NewGuid().ToString(), ["eventName"] = eventName, ["eventTimestamp"] = Fanfare.Emulator.Infrastructure.Json.Iso(now),
                ["consumerId"] = consumerId, ["geoCountry"] = "US", ["geoCity"] = "Brooklyn", ["eventProperties"] = props ?? new JsonObject(),
            },
        };
        store.Transaction(() =>
        {
            store.Put(evt);
            foreach (var s in emu.Services.GetServices<IBeaconEventSubscriber>()) s.OnBeaconEvent(evt);
        });
        return evt;
    }

    /// <summary><c>POST /consumers/batch</c> of consumers with just an email → their ids.</summary>
    public static async Task<List<string>> BatchAsync(this EmulatorServer emu, string secretKey, params string[] emails)
    {
        var arr = new JsonArray(emails.Select(e => (JsonNode)new JsonObject
        {
            ["email"] = e, ["emailVerified"] = true, ["phoneVerified"] = false, ["status"] = "ACTIVE", ["fullName"] = "Name " + e.Split('@')[0],
        }).ToArray());
        var r = (await emu.Admin.PostJsonAsync("/consumers/batch", new JsonObject { ["consumers"] = arr }, HttpClientExtensions.Sk(secretKey))).EnsureStatus(200);
        return r.Json!.AsArray().Select(c => c!["id"]!.GetValue<string>()).ToList();
    }
}
