using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure;
using ConsumerDoc = Fanfare.Emulator.Consumers.Consumer;

namespace Fanfare.Emulator.Consumers;

/// <summary>
/// JSON shapes of a consumer record. The emulator keeps no engagement, geo, order or loyalty analytics, so those fields
/// carry their documented defaults (<c>0</c>, <c>"0"</c>, <c>false</c>) or <c>null</c>.
/// </summary>
public static class ConsumerProfiles
{
    /// <summary>consumer-part1.md <c>GET /consumers/{id}</c> (server-side, secret key).</summary>
    public static JsonObject Profile(ConsumerDoc c) => new()
    {
        ["id"] = c.Id,
        ["activityRank"] = 0, ["activityScore"] = 0, ["activityScoreUpdatedAt"] = null, ["aov"] = "0",
        ["email"] = c.Email, ["engagedCount"] = 0, ["fullName"] = c.FullName, ["lastEngagedAt"] = null,
        ["lastGeoAt"] = null, ["lastGeoCity"] = null, ["lastGeoCoordinates"] = null, ["lastGeoCountry"] = null,
        ["lastGeoPostalCode"] = null, ["lastGeoRegion"] = null, ["lastGeoSource"] = null, ["lastGeoTimezone"] = null,
        ["lastOrderAt"] = null, ["lastReturnAt"] = null, ["loyaltyBalance"] = 0, ["ltv"] = "0",
        ["monetaryRank"] = 0, ["monetaryScore"] = 0, ["monetaryScoreUpdatedAt"] = null, ["phone"] = c.Phone,
        ["primaryExternalId"] = null, ["primaryLastSyncedAt"] = null, ["primarySourceVendor"] = null, ["primarySyncSourceId"] = null,
        ["purchaseFrequencyRank"] = 0, ["purchaseFrequencyScore"] = 0, ["purchaseFrequencyScoreUpdatedAt"] = null,
        ["smsOptOut"] = false, ["totalEngagements"] = 0, ["totalMessages"] = 0, ["totalOrders"] = 0, ["totalReturns"] = 0,
    };

    /// <summary>admin-part4.md <c>Consumer</c> (as nested in <c>GET /sequences/{id}/waitlist/consumers</c>).</summary>
    public static JsonObject Admin(ConsumerDoc c)
    {
        var o = new JsonObject
        {
            ["id"] = c.Id, ["organizationId"] = c.OrganizationId, ["createdAt"] = Json.Iso(c.CreatedAt), ["createdBy"] = c.Source,
            ["archived"] = false, ["updatedAt"] = Json.Iso(c.UpdatedAt), ["updatedBy"] = null,
            ["emailVerified"] = !c.IsGuest && c.Email is not null, ["phoneVerified"] = !c.IsGuest && c.Phone is not null,
            ["status"] = "ACTIVE",
        };
        foreach (var (k, v) in Profile(c))
            if (k != "id") o[k] = v?.DeepClone();
        o["lastLoginAt"] = null; o["loyaltyLastActivityAt"] = null; o["loyaltyLifetimePoints"] = 0; o["metadata"] = null;
        o["verificationCode"] = null; o["verificationCodeExpiresAt"] = null;
        return o;
    }
}
