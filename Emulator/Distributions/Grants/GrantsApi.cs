using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;

namespace Fanfare.Emulator.Distributions.Grants;

/// <summary>
/// The merchant server's calls (guide-only operations; README of the contract): on the consumer port, secret key
/// (<c>Authorization: Bearer sk_…</c> or <c>X-Organization-Id</c> + <c>X-Secret-Key</c>):
/// <list type="bullet">
/// <item><c>POST /queues|draws|auctions/{id}/validate</c> <c>{consumerId, token?}</c> → 200 JSON <c>true</c> or <c>false</c>;
/// 403 DEVICE_MISMATCH body (code <c>FP002</c>) with <c>X-Fingerprint-Mismatch: true</c> when the entry carried
/// <c>X-Fingerprint</c> and this call's differs (behavior.md §3.9, §4.3).</item>
/// <item><c>POST /queues|draws|auctions|timed-releases/{id}/complete</c> <c>{consumerId, metadata?}</c> → 200
/// <c>{queueId|drawId|auctionId|timedReleaseId, consumerId, status:"COMPLETED", completedAt}</c>; errors of
/// <see cref="AdmissionGrants.Complete"/>.</item>
/// </list>
/// And on the admin port <c>POST /handoffs/validate</c> <c>{token}</c> (best-practices page). Control plane:
/// <c>POST /_emulator/distributions/{id}/simulate</c> <c>{"consumers":N}</c>, <c>GET /_emulator/distributions/{id}/participants</c>.
/// </summary>
public sealed class GrantsApi : IFeatureModule
{
    public int Order => 20;

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<DistributionRegistry>();
        services.AddSingleton<AdmissionGrants>();
        services.AddSingleton<IJobHandler, GrantExpiryJob>();
    }

    public void OnReset(IServiceProvider services) => services.GetRequiredService<AdmissionGrants>().ResetIndex();

    private static readonly (string Path, string Type, string IdKey, bool Validate)[] Kinds =
    [
        ("queues", DistributionTypes.Queue, "queueId", true),
        ("draws", DistributionTypes.Draw, "drawId", true),
        ("auctions", DistributionTypes.Auction, "auctionId", true),
        ("timed-releases", DistributionTypes.TimedRelease, "timedReleaseId", false),
    ];

    private static readonly Dictionary<string, string> Nouns = new()
    {
        [DistributionTypes.Queue] = "queue", [DistributionTypes.Draw] = "draw", [DistributionTypes.Auction] = "auction",
        [DistributionTypes.TimedRelease] = "timed release",
    };

    public void MapEndpoints(EmulatorRoutes routes)
    {
        foreach (var (path, type, idKey, validate) in Kinds)
        {
            if (validate)
                routes.Consumer.MapPost($"/{path}/{{id}}/validate", async (string id, HttpRequest req, Caller caller, DistributionRegistry registry, AdmissionGrants grants) =>
                {
                    var org = caller.RequireSecret();
                    var body = await BodyReader.ReadAsync(req, required: true);
                    var consumerId = body.String("consumerId", required: true);
                    var token = body.String("token");
                    body.ThrowIfInvalid();
                    var engine = registry.ForType(type);
                    if (engine?.Find(org.Id, id) is null) throw ApiErrors.NotFoundError(engine?.NotFoundError ?? "Not found");
                    var (result, grant) = grants.Validate(org, id, consumerId!, token, req.Headers["X-Fingerprint"].ToString());
                    if (result == GrantCheck.DeviceMismatch)
                        return new JsonResult(403, new JsonObject
                        {
                            ["valid"] = false, ["error"] = "DEVICE_MISMATCH",
                            ["message"] = type == DistributionTypes.Draw
                                ? "This winning token can only be used on the device that originally entered the draw."
                                : $"This access token can only be used on the device that originally entered the {Nouns[type]}.",
                            ["code"] = "FP002",
                            ["support"] = new JsonObject
                            {
                                ["message"] = "If you need to switch devices, please contact support with your confirmation code.",
                                ["confirmationCode"] = grant!.ConfirmationCode,
                            },
                        }, new Dictionary<string, string> { ["X-Fingerprint-Mismatch"] = "true" });
                    return new JsonResult(200, JsonValue.Create(result == GrantCheck.Valid));
                }).WithTags("Admission grants").WithSummary($"Validate a {Nouns[type]} admission grant (server-side)");

            routes.Consumer.MapPost($"/{path}/{{id}}/complete", async (string id, HttpRequest req, Caller caller, DistributionRegistry registry, AdmissionGrants grants) =>
            {
                var org = caller.RequireSecret();
                var body = await BodyReader.ReadAsync(req, required: true);
                var consumerId = body.String("consumerId", required: true);
                var metadata = body.Object("metadata", nullable: true);
                body.ThrowIfInvalid();
                var engine = registry.ForType(type);
                if (engine?.Find(org.Id, id) is null) throw ApiErrors.NotFoundError(engine?.NotFoundError ?? "Not found");
                var grant = grants.Complete(org, id, consumerId!, metadata);
                return Results.Json(new JsonObject
                {
                    [idKey] = id, ["consumerId"] = grant.ConsumerId, ["status"] = "COMPLETED", ["completedAt"] = Json.Iso(grant.CompletedAt),
                });
            }).WithTags("Admission grants").WithSummary($"Complete a {Nouns[type]} admission (marks the grant used)");
        }

        routes.Admin.MapPost("/handoffs/validate", async (HttpRequest req, Caller caller, AdmissionGrants grants) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var token = body.String("token", required: true);
            body.ThrowIfInvalid();
            return Results.Json(grants.Handoff(org, token!));
        }).WithTags("Admission grants").WithSummary("Validate an admission grant handed off to the merchant's server");

        routes.Control.MapPost("/distributions/{id}/simulate", async (string id, HttpRequest req, DistributionRegistry registry, Organizations.OrganizationDirectory orgs) =>
        {
            var body = await BodyReader.ReadAsync(req, required: true);
            var n = body.Int("consumers", required: true, min: 1, max: 100_000);
            body.ThrowIfInvalid();
            foreach (var org in orgs.All())
                if (registry.Find(org.Id, id) is { } hit)
                {
                    var ids = hit.Engine.Simulate(org, hit.Distribution, n!.Value);
                    return Results.Json(new { distributionId = id, distributionType = hit.Engine.Type, consumerIds = ids });
                }
            throw ApiErrors.NotFoundError("Distribution not found");
        }).WithSummary("N synthetic guests enter a distribution (QA helper)");

        routes.Control.MapGet("/distributions/{id}/participants", (string id, DistributionRegistry registry, Organizations.OrganizationDirectory orgs) =>
        {
            foreach (var org in orgs.All())
                if (registry.Find(org.Id, id) is { } hit)
                    return Results.Json(new { distributionId = id, distributionType = hit.Engine.Type, participants = hit.Engine.Participants(hit.Distribution) });
            throw ApiErrors.NotFoundError("Distribution not found");
        }).WithSummary("Everyone in a distribution with their state (QA helper)");
    }
}
