using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Consumers;

/// <summary>A consumer of one organization: a guest until it verifies an email/phone or signs in externally.</summary>
public sealed class Consumer : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? FullName { get; set; }
    public bool IsGuest { get; set; }
    /// <summary>How it came to be: <c>guest</c>, <c>otp_login</c>, <c>external_auth</c>, <c>seed</c>, <c>admin</c>.</summary>
    public string Source { get; set; } = "guest";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Who last changed it from the admin API (<c>api_key</c>), or null.</summary>
    public string? UpdatedBy { get; set; }
    /// <summary><c>ACTIVE</c> or <c>INACTIVE</c> (admin-part2.md <c>PUT /consumers/{id}</c>).</summary>
    public string Status { get; set; } = "ACTIVE";
    /// <summary>Set by <c>DELETE /consumers/{id}</c>: the consumer is archived, its personal fields erased, its sessions revoked.</summary>
    public bool Archived { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }
    public JsonObject? Metadata { get; set; }
    public bool SmsOptOut { get; set; }
    /// <summary>Explicit verification flags (batch import); null = derived (a verified sign-in).</summary>
    public bool? EmailVerified { get; set; }
    public bool? PhoneVerified { get; set; }
    /// <summary>Attribute values given by <c>POST /consumers/batch</c> (a baseline from the merchant's previous system, e.g.
    /// <c>totalOrders</c>, <c>ltv</c>, <c>activityScore</c>); what happens in the emulator is added on top.</summary>
    public JsonObject? Imported { get; set; }
    /// <summary>The external list this consumer was first imported from (audience imports), e.g. <c>klaviyo</c>.</summary>
    public string? SourceVendor { get; set; }
    public string? ExternalId { get; set; }
    public string? SyncSourceId { get; set; }
    public DateTimeOffset? LastSyncedAt { get; set; }
}

/// <summary>Creates and finds consumers; records <c>consumer.created</c> / <c>consumer.updated</c> (behavior.md §7.4).</summary>
public sealed class ConsumerDirectory(DocumentStore store, IdGenerator ids, EventOutbox outbox, Clock.ClockResolver clocks)
{
    public Consumer? Get(string organizationId, string? id)
    {
        var c = store.Get<Consumer>(id);
        return c is not null && c.OrganizationId == organizationId ? c : null;
    }

    public Consumer? ByEmail(string organizationId, string email) =>
        store.First<Consumer>(c => c.OrganizationId == organizationId && string.Equals(c.Email, email, StringComparison.OrdinalIgnoreCase));

    public Consumer? ByPhone(string organizationId, string phone) =>
        store.First<Consumer>(c => c.OrganizationId == organizationId && c.Phone == phone);

    public Consumer Create(string organizationId, string source, string? email = null, string? phone = null, string? fullName = null, bool guest = false)
    {
        return store.Transaction(() =>
        {
            var now = clocks.For(organizationId).GetUtcNow();
            var c = new Consumer
            {
                Id = ids.NewUuid("consumer"), OrganizationId = organizationId, Email = email, Phone = phone, FullName = fullName,
                IsGuest = guest, Source = source, CreatedAt = now, UpdatedAt = now,
            };
            store.Put(c);
            outbox.Record(organizationId, "consumer.created", new JsonObject
            {
                ["consumerId"] = c.Id, ["email"] = c.Email, ["phone"] = c.Phone, ["fullName"] = c.FullName,
                ["createdAt"] = Json.Iso(now), ["source"] = source,
            });
            return c;
        });
    }

    /// <summary>Saves a changed consumer and records <c>consumer.updated</c> with the changed field names.</summary>
    public void Updated(Consumer c, params string[] changedFields)
    {
        if (changedFields.Length == 0) return;
        store.Transaction(() =>
        {
            c.UpdatedAt = clocks.For(c.OrganizationId).GetUtcNow();
            store.Put(c);
            outbox.Record(c.OrganizationId, "consumer.updated", new JsonObject
            {
                ["consumerId"] = c.Id, ["updatedAt"] = Json.Iso(c.UpdatedAt),
                ["changedFields"] = new JsonArray(changedFields.Select(f => (JsonNode)f).ToArray()),
            });
        });
    }
}
