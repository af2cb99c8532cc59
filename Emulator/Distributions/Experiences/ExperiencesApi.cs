using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Experiences;

/// <summary>
/// Admin experiences (secret key; admin-part2.md / admin-part3.md), all 200:
/// <list type="bullet">
/// <item><c>GET /experiences</c> → <c>{data:[Experience with sequences], pageInfo}</c> (cursor pagination, behavior.md §6).</item>
/// <item><c>POST /experiences</c> <c>{name, timeZone?, products?, theme?, i18n?, accessCode?, sequence?:{name, priority?,
/// accessCode?, audienceId?, color?, productSelectionMode?, sequenceProducts?, queues?, draws?, auctions?, appointments?,
/// timedReleases?}}</c> → the Experience with its sequences.</item>
/// <item><c>GET|PUT|DELETE /experiences/{id}</c> → the Experience (no sequences); DELETE archives it (and its sequences,
/// distributions and waitlists).</item>
/// <item><c>GET /experiences/{id}/metrics</c> → <c>{sequences:{[sequenceId]:{audienceName, audienceSize, waitlistSize,
/// waitlistSize1d … waitlistSize5plus}}}</c>.</item>
/// </list>
/// Errors: 401 <c>Authentication required</c> / <c>Secret key required</c>, 404 <c>Experience not found</c>, 400 <c>validation_error</c>.
/// Seed: each organization's <c>experiences</c> section (format in <c>seed/README.md</c>).
/// </summary>
public sealed partial class ExperiencesApi : IFeatureModule
{
    /// <summary>After the engines' modules, so every engine is registered and seeded first.</summary>
    public int Order => 200;

    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<ExperienceService>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/experiences").WithTags("Experiences");

        g.MapGet("", (HttpRequest req, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(Pagination.Page(experiences.List(org.Id), e => e.Id, e => experiences.ToJson(e, org, withSequences: true), req.Query));
        }).WithName("getExperiences").WithSummary("List experiences with bidirectional cursor-based pagination");

        g.MapPost("", async (HttpRequest req, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var e = experiences.Create(org, body, caller.Actor());
            return Results.Json(experiences.ToJson(e, org, withSequences: true));
        }).WithName("postExperiences").WithSummary("Create an experience with optional sequence and distribution");

        g.MapGet("/{id}", (string id, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(experiences.ToJson(experiences.Require(org.Id, id), org, withSequences: false));
        }).WithName("getExperiencesById").WithSummary("Get an experience");

        g.MapPut("/{id}", async (string id, HttpRequest req, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            var e = experiences.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req);
            return Results.Json(experiences.ToJson(experiences.Update(e, body, caller.Actor()), org, withSequences: false));
        }).WithName("putExperiencesById").WithSummary("Update an experience");

        g.MapDelete("/{id}", (string id, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            var e = experiences.Require(org.Id, id);
            return Results.Json(experiences.ToJson(experiences.Archive(e, caller.Actor()), org, withSequences: false));
        }).WithName("deleteExperiencesById").WithSummary("Delete an experience");

        g.MapGet("/{id}/metrics", (string id, Caller caller, ExperienceService experiences) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(experiences.Metrics(experiences.Require(org.Id, id)));
        }).WithName("getExperiencesByIdMetrics").WithSummary("Get metrics for an experience");
    }

    /// <summary>
    /// Seed section <c>experiences</c>: <c>[{id?, name, timeZone?, accessCode?, theme?, i18n?, products?, sequences:[{id?, name,
    /// priority?, accessCode?, audienceId?, color?, productSelectionMode?, sequenceProducts?, queues?, draws?, auctions?,
    /// appointments?, timedReleases?, waitlist?:{id?, capacity?}, orderLimits?:[{productId, maxQuantity, …}]}]}]</c>.
    /// Any string <c>"+P…"</c>/<c>"-P…"</c> (ISO 8601 duration) becomes the seed-time clock plus that duration. Ids default
    /// to name-derived UUIDs (stable across runs). A distribution whose engine is missing or whose body is invalid is
    /// skipped with a logged warning.
    /// </summary>
    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        if (orgSeed["experiences"] is not JsonArray list) return;
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Fanfare.Emulator.Seed.Experiences");
        var experiences = services.GetRequiredService<ExperienceService>();
        var sequences = services.GetRequiredService<SequenceService>();
        var waitlists = services.GetRequiredService<WaitlistEngine>();
        var now = services.GetRequiredService<ClockResolver>().For(org.Id).GetUtcNow();
        const string actor = "seed";
        foreach (var node in list)
        {
            if (node is not JsonObject raw) continue;
            var x = (JsonObject)ResolveRelative(raw.DeepClone(), now)!;
            var name = RequestChecks.AsString(x["name"]) ?? "";
            try
            {
                var seqs = x["sequences"] as JsonArray ?? [];
                x.Remove("sequences");
                x.Remove("sequence");
                var body = BodyReader.Parse(x.ToJsonString());
                var fields = ExperienceFields.Read(body, create: true);
                body.ThrowIfInvalid();
                var id = RequestChecks.AsString(x["id"]) ?? IdGenerator.DeriveUuid("experience", org.Name + "/" + name);
                var e = experiences.CreateBare(org, fields, actor, id);
                foreach (var sn in seqs)
                {
                    if (sn is not JsonObject so) continue;
                    var seqName = RequestChecks.AsString(so["name"]) ?? "";
                    var waitlist = so["waitlist"] as JsonObject;
                    var limits = so["orderLimits"] as JsonArray;
                    var seqId = RequestChecks.AsString(so["id"]) ?? IdGenerator.DeriveUuid("sequence", $"{org.Name}/{name}/{seqName}");
                    foreach (var k in new[] { "id", "waitlist", "orderLimits" }) so.Remove(k);
                    // Seeded distribution ids are derived from this path, not from the clock (stable across starts).
                    using var scope = services.GetRequiredService<IdGenerator>().SeedScope($"{org.Name}/{name}/{seqName}");
                    var seq = experiences.AddSequence(org, e, so, actor, [], seqId,
                        warn: msg => log.LogWarning("Seed {Org} / {Experience} / {Sequence}: {Message}", org.Name, name, seqName, msg));
                    if (waitlist is not null)
                        waitlists.Create(org, seq, RequestChecks.AsNumber(waitlist["capacity"]) is double c ? (int)c : null, actor,
                            RequestChecks.AsString(waitlist["id"]) ?? IdGenerator.DeriveUuid("waitlist", $"{org.Name}/{name}/{seqName}"));
                    foreach (var l in (limits ?? []).OfType<JsonObject>())
                        if (RequestChecks.AsString(l["productId"]) is { } productId && RequestChecks.AsNumber(l["maxQuantity"]) is double max)
                            sequences.AddOrderLimit(seq, productId, RequestChecks.AsString(l["productVariantId"]), (int)max,
                                RequestChecks.AsNumber(l["timeWindowSeconds"]) is double w ? (int)w : null, RequestChecks.AsString(l["timeWindowType"]), actor);
                }
            }
            catch (ApiException ex)
            {
                log.LogWarning("Seed {Org}: experience \"{Experience}\" skipped: {Body}", org.Name, name, ex.Body?.ToJsonString() ?? ex.Message);
            }
        }
    }

    [GeneratedRegex(@"^[+-]P(?=\d|T\d)[0-9YMWDTHS.]*$")]
    private static partial Regex RelativeTime();

    /// <summary>Replaces every relative time string (<c>"+P7D"</c>, <c>"-PT1H"</c>, <c>"+PT0S"</c>) with an ISO instant, in
    /// place (pass a copy): only the replaced strings are new nodes (a reset runs this over the seed's experiences).</summary>
    public static JsonNode? ResolveRelative(JsonNode? node, DateTimeOffset now)
    {
        switch (node)
        {
            case JsonObject o:
                List<(string Key, JsonNode? Value)>? replaced = null;
                foreach (var (key, value) in o)
                    if (ResolveRelative(value, now) is var r && !ReferenceEquals(r, value)) (replaced ??= []).Add((key, r));
                foreach (var (key, value) in replaced ?? []) o[key] = value;
                return o;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++)
                    if (a[i] is var v && ResolveRelative(v, now) is var r && !ReferenceEquals(r, v)) a[i] = r;
                return a;
            default:
                if (RequestChecks.AsString(node) is { } s && RelativeTime().IsMatch(s))
                {
                    try
                    {
                        var span = IsoDuration.Parse(s[1..]);
                        return JsonValue.Create(Json.Iso(s[0] == '-' ? now - span : now + span));
                    }
                    catch (FormatException) { }
                }
                return node;
        }
    }
}
