using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Fanfare.Emulator.Analytics;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Loyalty;

/// <summary>consumer-part2.md <c>GET /loyalty/balance</c>.</summary>
public sealed record LoyaltyBalance(int Balance, int LifetimePoints);

/// <summary>consumer-part2.md <c>GET /loyalty/expirations</c> item: points expiring on a UTC date (<c>yyyy-MM-dd</c>).</summary>
public sealed record LoyaltyExpiration(string ExpiresOn, int Points);

/// <summary>consumer-part2.md <c>GET /loyalty/history</c> item (instants UTC ISO 8601).</summary>
public sealed record LoyaltyHistoryItem(string Id, string TxnType, int PointsDelta, string OccurredAt, string ActorType,
    string? BucketEarnedOn, string? BucketExpiresOn, string? SourceId, string? SourceType);

/// <summary>Result of <c>POST /_emulator/loyalty/adjustments</c> (behavior.md §10.3 manual adjustment).</summary>
public sealed record LoyaltyAdjustmentResult(bool Applied, int AppliedAmount, int Balance, int LifetimePoints, string? TransactionId, string? Reason);

/// <summary>Loyalty settings as the control plane shows them (behavior.md §10.3 "Admin settings"), with the effective points table.</summary>
public sealed record LoyaltySettingsView(string OrganizationId, bool Enabled, string ExpirationType, int? FixedExpireMonths, int? InactivityExpireMonths,
    int? MaxBalance, int? DailyEarnCap, int? MonthlyEarnCap, double PointsPerCurrencyUnit, Dictionary<string, int> EventPoints,
    Dictionary<string, int> EventPointOverrides);

/// <summary>Source-generated JSON for the loyalty shapes (camelCase; nullable fields written as null).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(LoyaltyBalance))]
[JsonSerializable(typeof(List<LoyaltyExpiration>))]
[JsonSerializable(typeof(List<LoyaltyHistoryItem>))]
[JsonSerializable(typeof(LoyaltyAdjustmentResult))]
[JsonSerializable(typeof(LoyaltySettingsView))]
public sealed partial class LoyaltyJson : JsonSerializerContext;

/// <summary>
/// Loyalty (behavior.md §10.3):
/// <list type="bullet">
/// <item>Consumer port, consumer access token (401 <c>Authentication required</c>): <c>GET /loyalty/balance</c> →
/// <c>{balance, lifetimePoints}</c>; <c>GET /loyalty/expirations?withinDays=90</c> → <c>[{expiresOn:"yyyy-MM-dd", points}]</c>
/// (1…3650 days, default 90); <c>GET /loyalty/history?limit=20</c> → transactions newest first (1…100, default 20).</item>
/// <item>Control plane: <c>POST /_emulator/loyalty/adjustments</c> <c>{consumerId, delta (non-zero integer), reason?}</c> →
/// <c>{applied, appliedAmount, balance, lifetimePoints, transactionId, reason}</c> (an <c>adjust</c> transaction with actor
/// <c>admin</c>; 404 <c>Consumer not found</c>); <c>GET|PUT /_emulator/loyalty/settings?organizationId=</c> (default: the
/// seed's first organization) → the settings and the effective points per event type.</item>
/// </list>
/// Seed: each organization's <c>loyalty</c> object (same fields as the PUT).
/// </summary>
public sealed class LoyaltyApi : IFeatureModule
{
    /// <summary>Before consumers are seeded (10), so seeded history earns under the seeded settings.</summary>
    public int Order => 5;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<LoyaltyEngine>();
        services.AddSingleton<LoyaltyEarning>();
        services.AddSingleton<IEventSubscriber>(sp => sp.GetRequiredService<LoyaltyEarning>());
        services.AddSingleton<IBeaconEventSubscriber>(sp => sp.GetRequiredService<LoyaltyEarning>());
        services.AddSingleton<IJobHandler, LoyaltyExpiryJobs>();
        services.AddSingleton<IJobHandler, LoyaltyInactivityJobs>();
    }

    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        if (orgSeed["loyalty"] is not JsonObject section) return;
        var engine = services.GetRequiredService<LoyaltyEngine>();
        var body = BodyReader.Parse(section.ToJsonString());
        var settings = ReadSettings(body, LoyaltySettings.Defaults(org.Id));
        if (body.HasIssues)
        {
            services.GetRequiredService<ILogger<LoyaltyApi>>().LogWarning("Seed: organization {Org}: invalid loyalty section ignored", org.Name);
            return;
        }
        engine.SaveSettings(settings);
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Consumer.MapGroup("/loyalty").WithTags("Loyalty");

        // consumer-part2.md GET /loyalty/balance
        g.MapGet("/balance", (Caller caller, LoyaltyEngine engine) =>
        {
            var (org, consumerId) = Me(caller);
            var s = engine.Standing(org, consumerId);
            return TypedResults.Json(new LoyaltyBalance(s.Balance, s.LifetimePoints), LoyaltyJson.Default.LoyaltyBalance);
        }).WithName("getLoyaltyBalance").Produces<LoyaltyBalance>().WithSummary("Get the consumer's loyalty balance and lifetime points");

        // consumer-part2.md GET /loyalty/expirations?withinDays=
        g.MapGet("/expirations", (HttpRequest req, Caller caller, LoyaltyEngine engine) =>
        {
            var (org, consumerId) = Me(caller);
            var days = IntQuery(req, "withinDays", 90, 1, 3650);
            var list = engine.Expirations(org, consumerId, days).Select(e => new LoyaltyExpiration(e.ExpiresOn, e.Points)).ToList();
            return TypedResults.Json(list, LoyaltyJson.Default.ListLoyaltyExpiration);
        }).WithName("getLoyaltyExpirations").Produces<List<LoyaltyExpiration>>().WithSummary("Get upcoming loyalty point expirations grouped by date");

        // consumer-part2.md GET /loyalty/history?limit=
        g.MapGet("/history", (HttpRequest req, Caller caller, LoyaltyEngine engine) =>
        {
            var (org, consumerId) = Me(caller);
            var limit = IntQuery(req, "limit", 20, 1, 100);
            var list = engine.History(org, consumerId).Take(limit).Select(History).ToList();
            return TypedResults.Json(list, LoyaltyJson.Default.ListLoyaltyHistoryItem);
        }).WithName("getLoyaltyHistory").Produces<List<LoyaltyHistoryItem>>().WithSummary("Get loyalty point transaction history for the consumer");

        var c = routes.Control.MapGroup("/loyalty").WithTags("Emulator loyalty");

        c.MapPost("/adjustments", async (HttpRequest req, ConsumerDirectory consumers, OrganizationDirectory orgs, LoyaltyEngine engine) =>
        {
            var body = await BodyReader.ReadAsync(req, required: true);
            var consumerId = body.String("consumerId", required: true, minLength: 1);
            var delta = body.Int("delta", required: true);
            var reason = body.String("reason", nullable: true, maxLength: 500);
            if (delta == 0) body.AddIssue("delta", "not_value", "!0", body.Root["delta"], "Invalid value: Expected a non-zero integer but received 0");
            body.ThrowIfInvalid();
            var consumer = orgs.All().Select(o => consumers.Get(o.Id, consumerId)).FirstOrDefault(x => x is not null)
                ?? throw ApiErrors.NotFoundError("Consumer not found");
            var r = engine.Adjust(consumer.OrganizationId, consumer.Id, delta!.Value, reason, "admin", "emulator");
            return TypedResults.Json(new LoyaltyAdjustmentResult(r.Applied, r.AppliedAmount, r.Balance, r.LifetimePoints, r.TransactionId, r.Reason),
                LoyaltyJson.Default.LoyaltyAdjustmentResult);
        }).WithName("emulatorLoyaltyAdjust").Produces<LoyaltyAdjustmentResult>().WithSummary("Adds or removes points for a consumer (manual adjustment, actor admin).");

        c.MapGet("/settings", (HttpRequest req, OrganizationDirectory orgs, LoyaltyEngine engine) =>
            TypedResults.Json(View(engine.Settings(Org(orgs, req.Query["organizationId"]).Id)), LoyaltyJson.Default.LoyaltySettingsView))
            .WithName("emulatorLoyaltySettingsGet").Produces<LoyaltySettingsView>().WithSummary("An organization's loyalty settings and effective points per event type.");

        c.MapPut("/settings", async (HttpRequest req, OrganizationDirectory orgs, LoyaltyEngine engine) =>
        {
            var org = Org(orgs, req.Query["organizationId"]);
            var body = await BodyReader.ReadAsync(req, required: true);
            var settings = ReadSettings(body, LoyaltySettings.Defaults(org.Id));
            body.ThrowIfInvalid();
            engine.SaveSettings(settings);
            return TypedResults.Json(View(settings), LoyaltyJson.Default.LoyaltySettingsView);
        }).WithName("emulatorLoyaltySettingsPut").Produces<LoyaltySettingsView>().WithSummary("Replaces an organization's loyalty settings (omitted fields take their defaults).");
    }

    private static (string Org, string ConsumerId) Me(Caller caller)
    {
        var principal = caller.RequireConsumer();
        return (caller.RequireOrganization().Id, principal.ConsumerId);
    }

    private static Organization Org(OrganizationDirectory orgs, string? id) =>
        (string.IsNullOrEmpty(id) ? orgs.All().FirstOrDefault() : orgs.ById(id)) ?? throw ApiErrors.NotFoundError("Organization not found");

    public static LoyaltyHistoryItem History(LoyaltyTransaction t) => new(t.Id, t.TxnType, t.PointsDelta, Json.Iso(t.OccurredAt), t.ActorType,
        Json.Iso(t.BucketEarnedOn), Json.Iso(t.BucketExpiresOn), t.SourceId, t.SourceType);

    private static LoyaltySettingsView View(LoyaltySettings s) => new(s.Id, s.Enabled, s.ExpirationType, s.FixedExpireMonths, s.InactivityExpireMonths,
        s.MaxBalance, s.DailyEarnCap, s.MonthlyEarnCap, s.PointsPerCurrencyUnit ?? LoyaltySettings.DefaultPointsPerCurrencyUnit, s.EffectivePoints(),
        new Dictionary<string, int>(s.EventPoints));

    /// <summary>Reads <c>{enabled?, expirationType?, fixedExpireMonths?, inactivityExpireMonths?, maxBalance?, dailyEarnCap?,
    /// monthlyEarnCap?, pointsPerCurrencyUnit?, eventPoints?:{type:points}}</c>; the months are required by their expiry type.</summary>
    public static LoyaltySettings ReadSettings(BodyReader body, LoyaltySettings s)
    {
        s.Enabled = body.Bool("enabled") ?? true;
        s.ExpirationType = body.Enum("expirationType", ["none", "fixed", "inactivity"]) ?? "none";
        s.FixedExpireMonths = body.Int("fixedExpireMonths", nullable: true, min: 1, max: 120);
        s.InactivityExpireMonths = body.Int("inactivityExpireMonths", nullable: true, min: 1, max: 120);
        s.MaxBalance = body.Int("maxBalance", nullable: true, min: 0);
        s.DailyEarnCap = body.Int("dailyEarnCap", nullable: true, min: 0);
        s.MonthlyEarnCap = body.Int("monthlyEarnCap", nullable: true, min: 0);
        s.PointsPerCurrencyUnit = body.Number("pointsPerCurrencyUnit", nullable: true, min: 0);
        if (s.ExpirationType == "fixed" && s.FixedExpireMonths is null)
            body.AddIssue("fixedExpireMonths", "required", "number", null, "fixedExpireMonths is required when expirationType is fixed");
        if (s.ExpirationType == "inactivity" && s.InactivityExpireMonths is null)
            body.AddIssue("inactivityExpireMonths", "required", "number", null, "inactivityExpireMonths is required when expirationType is inactivity");
        s.EventPoints = [];
        if (body.Object("eventPoints", nullable: true) is { } points)
            foreach (var (k, v) in points)
            {
                if (v is JsonValue jv && jv.TryGetValue<int>(out var n) && n >= 0) s.EventPoints[k] = n;
                else body.AddIssue("eventPoints", "min_value", ">=0 integer", v, $"Invalid value: eventPoints.{k} must be an integer >= 0");
            }
        return s;
    }

    private static int IntQuery(HttpRequest req, string name, int fallback, int min, int max)
    {
        var raw = req.Query[name].FirstOrDefault();
        if (string.IsNullOrEmpty(raw)) return fallback;
        if (int.TryParse(raw, out var n) && n >= min && n <= max) return n;
        throw Validation.Single(name, "max_value", $"{min}..{max}", "\"" + raw + "\"", $"Invalid value: Expected an integer from {min} to {max} but received \"{raw}\"");
    }
}
