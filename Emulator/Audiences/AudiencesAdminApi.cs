using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Audiences;

/// <summary>
/// The 26 audience operations of admin-part1.md on the admin port (secret key; 401 <c>Authentication required</c> /
/// <c>Secret key required</c>; 400 <c>validation_error</c>; 404 <c>Audience not found</c>, <c>Audience rule not found</c>,
/// <c>Audience group not found</c>, <c>Audience import not found</c>), plus admin-part2.md <c>GET /consumers/{id}/audiences</c>.
/// Lists take the cursor parameters of behavior.md §6 (<c>first</c>/<c>after</c>, <c>last</c>/<c>before</c>); <c>GET /audiences</c>
/// also <c>sortBy</c> <c>createdAt</c>|<c>name</c>|<c>lastRefreshedAt</c>, <c>sortDir</c>, <c>search</c>, <c>type</c>; group members
/// <c>?audienceId=</c>. Deleting archives. Rule fields are the admin <c>Consumer</c> attribute names or <c>metadata.KEY</c>.
/// Loyalty-tier ranges are <c>[startValue, endValue)</c> and must not overlap (400). Entering a sequence limited to an
/// audience the consumer is not in is refused by routing (<c>AUDIENCE_NOT_MEMBER</c>; this class is its membership source).
/// </summary>
public sealed class AudiencesAdminApi : IFeatureModule
{
    public int Order => 230;
    private const string Actor = "api_key";

    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<AudienceEngine>();
        services.AddSingleton<IAudienceMembership>(sp => sp.GetRequiredService<AudienceEngine>());
        // Announcements that name an audience reach its members (the announcements module's fallback has none).
        services.AddSingleton<Messaging.Announcements.IAudienceMembers, AnnouncementRecipients>();
        services.AddSingleton<AudienceImports>();
        services.AddSingleton<IJobHandler, AudienceImportJobs>();
    }

    private static readonly HashSet<string> ConsumerFields =
        JsonSerializer.SerializeToNode(new AdminConsumer { PrimarySyncSource = null }, ConsumersJson.Default.AdminConsumer)!.AsObject().Select(p => p.Key).ToHashSet();

    /// <summary>
    /// Seed: each organization's <c>audiences</c> (bodies of <c>POST /audiences</c>) and <c>loyaltyTiers</c> (bodies of
    /// <c>POST /audiences/loyalty-tiers</c>); an invalid entry is logged and skipped.
    /// </summary>
    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        var engine = services.GetRequiredService<AudienceEngine>();
        var log = services.GetRequiredService<ILogger<AudiencesAdminApi>>();
        foreach (var node in orgSeed["audiences"] as JsonArray ?? [])
        {
            var body = BodyReader.ParseCached(node?.ToJsonString());
            var input = ReadAudience(body, create: true);
            if (body.HasIssues) { log.LogWarning("Seed: organization {Org}: invalid audience skipped: {Entry}", org.Name, node?.ToJsonString()); continue; }
            engine.Create(org.Id, input, "seed");
        }
        foreach (var node in orgSeed["loyaltyTiers"] as JsonArray ?? [])
        {
            var body = BodyReader.ParseCached(node?.ToJsonString());
            var (groupName, attribute, tiers) = ReadTiers(body);
            if (body.HasIssues) { log.LogWarning("Seed: organization {Org}: invalid loyaltyTiers entry skipped: {Entry}", org.Name, node?.ToJsonString()); continue; }
            engine.SaveTiers(org.Id, null, groupName!, attribute!, tiers, "seed");
        }
    }

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/audiences").WithTags("Audiences");

        g.MapGet("", (HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var list = engine.List(org.Id).AsEnumerable();
            var q = req.Query;
            if (q["search"].FirstOrDefault() is { Length: > 0 } search)
            {
                if (search.Length < 2) throw Validation.Single("search", "min_length", ">=2", "\"" + search + "\"", $"Invalid length: Expected >=2 but received {search.Length}");
                list = list.Where(a => a.Name.Contains(search, StringComparison.OrdinalIgnoreCase));
            }
            if (q["type"].FirstOrDefault() is { Length: > 0 } type) list = list.Where(a => a.Type == type);
            var desc = q["sortDir"].FirstOrDefault() == "desc";
            list = (q["sortBy"].FirstOrDefault() ?? "createdAt") switch
            {
                "name" => desc ? list.OrderByDescending(a => a.Name, StringComparer.OrdinalIgnoreCase) : list.OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase),
                "lastRefreshedAt" => desc ? list.OrderByDescending(a => a.LastRefreshedAt) : list.OrderBy(a => a.LastRefreshedAt),
                _ => desc ? list.OrderByDescending(a => a.CreatedAt) : list.OrderBy(a => a.CreatedAt),
            };
            var (items, start, end) = Pagination.Slice(list.ToList(), a => a.Id, req.Query);
            return TypedResults.Json(new AudiencePage(items.Select(a => engine.View(a)).ToList(), new PageInfo(start, end)), AudiencesJson.Default.AudiencePage);
        }).WithName("getAudiences").Produces<AudiencePage>().WithSummary("List audiences with bidirectional cursor-based pagination");

        g.MapPost("", async (HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var input = ReadAudience(body, create: true);
            body.ThrowIfInvalid();
            return TypedResults.Json(engine.View(engine.Create(org.Id, input, Actor)), AudiencesJson.Default.AudienceView);
        }).WithName("postAudiences").Produces<AudienceView>().WithSummary("Create an audience");

        // Literal segments first: /groups, /import, /loyalty-tiers.
        g.MapGet("/groups/{groupId}", (string groupId, Caller caller, AudienceEngine engine) =>
            TypedResults.Json(engine.Group(caller.RequireSecret().Id, groupId).Select(a => engine.View(a)).ToList(), AudiencesJson.Default.ListAudienceView))
            .WithName("getAudiencesGroupsByGroupId").Produces<List<AudienceView>>().WithSummary("Get all audiences in a group");

        g.MapDelete("/groups/{groupId}", (string groupId, Caller caller, AudienceEngine engine) =>
            TypedResults.Json(engine.DeleteGroup(caller.RequireSecret().Id, groupId, Actor).Select(a => engine.View(a, full: false)).ToList(), AudiencesJson.Default.ListAudienceView))
            .WithName("deleteAudiencesGroupsByGroupId").Produces<List<AudienceView>>().WithSummary("Delete all audiences in a group");

        g.MapGet("/groups/{groupId}/members", (string groupId, HttpRequest req, Caller caller, AudienceEngine engine, ConsumerInsights insights) =>
        {
            var org = caller.RequireSecret();
            var group = engine.Group(org.Id, groupId);
            if (req.Query["audienceId"].FirstOrDefault() is { Length: > 0 } only)
                group = group.Where(a => a.Id == only).ToList() is { Count: > 0 } f ? f : throw ApiErrors.NotFoundError(AudienceEngine.NotFound);
            var snapshot = insights.For(org.Id);
            var members = group.SelectMany(a => engine.Members(a, snapshot)).DistinctBy(c => c.Id).OrderBy(c => c.CreatedAt).ToList();
            return TypedResults.Json(MemberPage(members, snapshot, insights, req.Query), ConsumersJson.Default.ConsumerPage);
        }).WithName("getAudiencesGroupsByGroupIdMembers").Produces<ConsumerPage>().WithSummary("Get paginated members (consumers) across all audiences in a group, or filtered to a specific audience");

        foreach (var provider in AudienceTypes.Providers)
        {
            var name = char.ToUpperInvariant(provider[0]) + provider[1..];
            var title = provider switch { "sendgrid" => "SendGrid", _ => name };
            g.MapPost("/import/" + provider, async (HttpRequest req, Caller caller, AudienceImports imports) =>
            {
                var org = caller.RequireSecret();
                var body = await BodyReader.ReadAsync(req, required: true);
                var listIds = body.StringArray("listIds", required: true);
                if (listIds is { Count: 0 }) body.AddIssue("listIds", "min_length", ">=1", body.Root["listIds"], "Invalid length: Expected >=1 but received 0");
                body.ThrowIfInvalid();
                return TypedResults.Json(imports.ImportLists(org.Id, provider, listIds!, Actor), AudiencesJson.Default.ListImportResult);
            }).WithName("postAudiencesImport" + name).Produces<ListImportResult>().WithSummary($"Import multiple {title} lists as synced audiences");
        }

        g.MapPost("/loyalty-tiers", async (HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var (groupName, attribute, tiers) = ReadTiers(body);
            body.ThrowIfInvalid();
            var (gid, list) = engine.SaveTiers(org.Id, null, groupName!, attribute!, tiers, Actor);
            return TypedResults.Json(new TierGroupResult(gid, list.Select(a => engine.View(a)).ToList()), AudiencesJson.Default.TierGroupResult);
        }).WithName("postAudiencesLoyaltyTiers").Produces<TierGroupResult>().WithSummary("Create multiple audiences for loyalty tiers with non-overlapping ranges");

        g.MapPut("/loyalty-tiers/{groupId}", async (string groupId, HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            engine.Group(org.Id, groupId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var (groupName, attribute, tiers) = ReadTiers(body);
            body.ThrowIfInvalid();
            var (gid, list) = engine.SaveTiers(org.Id, groupId, groupName!, attribute!, tiers, Actor);
            return TypedResults.Json(new TierGroupResult(gid, list.Select(a => engine.View(a)).ToList()), AudiencesJson.Default.TierGroupResult);
        }).WithName("putAudiencesLoyaltyTiersByGroupId").Produces<TierGroupResult>().WithSummary("Update loyalty tier audiences in a group");

        g.MapGet("/{audienceId}", (string audienceId, Caller caller, AudienceEngine engine) =>
            TypedResults.Json(engine.View(engine.Require(caller.RequireSecret().Id, audienceId)), AudiencesJson.Default.AudienceView))
            .WithName("getAudiencesByAudienceId").Produces<AudienceView>().WithSummary("Get an audience");

        g.MapPut("/{audienceId}", async (string audienceId, HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            engine.Require(org.Id, audienceId);
            var body = await BodyReader.ReadAsync(req);
            var input = ReadAudience(body, create: false);
            body.ThrowIfInvalid();
            return TypedResults.Json(engine.View(engine.Update(org.Id, audienceId, input, Actor), full: false), AudiencesJson.Default.AudienceView);
        }).WithName("putAudiencesByAudienceId").Produces<AudienceView>().WithSummary("Update an audience");

        g.MapDelete("/{audienceId}", (string audienceId, Caller caller, AudienceEngine engine) =>
            TypedResults.Json(engine.View(engine.Delete(caller.RequireSecret().Id, audienceId, Actor), full: false), AudiencesJson.Default.AudienceView))
            .WithName("deleteAudiencesByAudienceId").Produces<AudienceView>().WithSummary("Delete an audience");

        g.MapGet("/{audienceId}/count", (string audienceId, Caller caller, AudienceEngine engine) =>
        {
            var a = engine.Require(caller.RequireSecret().Id, audienceId);
            return TypedResults.Json(new AudienceCount(a.Id, engine.Members(a).Count), AudiencesJson.Default.AudienceCount);
        }).WithName("getAudiencesByAudienceIdCount").Produces<AudienceCount>().WithSummary("Get the current member count for an audience");

        g.MapGet("/{audienceId}/import", (string audienceId, Caller caller, AudienceEngine engine, AudienceImports imports) =>
        {
            var org = caller.RequireSecret();
            engine.Require(org.Id, audienceId);
            var imp = imports.Latest(org.Id, audienceId) ?? throw ApiErrors.NotFoundError("Audience import not found");
            return TypedResults.Json(AudienceEngine.ImportView(imp), AudiencesJson.Default.AudienceImportView);
        }).WithName("getAudiencesByAudienceIdImport").Produces<AudienceImportView>().WithSummary("Get the import for an audience");

        g.MapPost("/{audienceId}/import", (string audienceId, HttpRequest req, Caller caller, AudienceImports imports) =>
        {
            var org = caller.RequireSecret();
            var imp = imports.CreateCsvImport(org.Id, audienceId, Actor);
            var url = $"{req.Scheme}://{req.Host}/_emulator/audience-imports/{imp.Id}/upload";
            return TypedResults.Json(AudienceEngine.ImportView(imp, url), AudiencesJson.Default.AudienceImportView);
        }).WithName("postAudiencesByAudienceIdImport").Produces<AudienceImportView>().WithSummary("Create a new audience import");

        g.MapGet("/{audienceId}/members", (string audienceId, HttpRequest req, Caller caller, AudienceEngine engine, ConsumerInsights insights) =>
        {
            var org = caller.RequireSecret();
            var a = engine.Require(org.Id, audienceId);
            var snapshot = insights.For(org.Id);
            return TypedResults.Json(MemberPage(engine.Members(a, snapshot), snapshot, insights, req.Query), ConsumersJson.Default.ConsumerPage);
        }).WithName("getAudiencesByAudienceIdMembers").Produces<ConsumerPage>().WithSummary("Get paginated members (consumers) of an audience");

        g.MapPost("/{audienceId}/members", async (string audienceId, HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            engine.Require(org.Id, audienceId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var ids = body.StringArray("consumerIds", required: true);
            body.ThrowIfInvalid();
            var added = engine.AddMembers(org.Id, audienceId, ids!, Actor);
            return TypedResults.Json(new AudienceMembersAdded(audienceId, added), AudiencesJson.Default.AudienceMembersAdded);
        }).WithName("postAudiencesByAudienceIdMembers").Produces<AudienceMembersAdded>().WithSummary("Add members to a static-list audience");

        g.MapGet("/{audienceId}/rules", (string audienceId, Caller caller, AudienceEngine engine) =>
        {
            var a = engine.Require(caller.RequireSecret().Id, audienceId);
            return TypedResults.Json(a.Rules.Select(r => AudienceEngine.RuleView(a, r)).ToList(), AudiencesJson.Default.ListAudienceRuleView);
        }).WithName("getAudiencesByAudienceIdRules").Produces<List<AudienceRuleView>>().WithSummary("List rules for an audience");

        g.MapPost("/{audienceId}/rules", async (string audienceId, HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var a = engine.Require(org.Id, audienceId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var rule = ReadRule(body, audienceId, requireAudienceId: true);
            body.ThrowIfInvalid();
            var r = engine.AddRule(org.Id, audienceId, rule!, Actor);
            return TypedResults.Json(AudienceEngine.RuleView(a, r), AudiencesJson.Default.AudienceRuleView);
        }).WithName("postAudiencesByAudienceIdRules").Produces<AudienceRuleView>().WithSummary("Create a rule for an audience");

        g.MapPut("/{audienceId}/rules", async (string audienceId, HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var a = engine.Require(org.Id, audienceId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var rules = ReadRules(body, "rules", audienceId, requireAudienceId: true, required: true);
            body.ThrowIfInvalid();
            var list = engine.ReplaceRules(org.Id, audienceId, rules!, Actor);
            return TypedResults.Json(list.Select(r => AudienceEngine.RuleView(a, r)).ToList(), AudiencesJson.Default.ListAudienceRuleView);
        }).WithName("putAudiencesByAudienceIdRules").Produces<List<AudienceRuleView>>().WithSummary("Replace all rules for an audience");

        g.MapGet("/{audienceId}/rules/{ruleId}", (string audienceId, string ruleId, Caller caller, AudienceEngine engine) =>
        {
            var a = engine.Require(caller.RequireSecret().Id, audienceId);
            return TypedResults.Json(AudienceEngine.RuleView(a, engine.RequireRule(a, ruleId)), AudiencesJson.Default.AudienceRuleView);
        }).WithName("getAudiencesByAudienceIdRulesByRuleId").Produces<AudienceRuleView>().WithSummary("Get an audience rule");

        g.MapPut("/{audienceId}/rules/{ruleId}", async (string audienceId, string ruleId, HttpRequest req, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var a = engine.Require(org.Id, audienceId);
            var existing = engine.RequireRule(a, ruleId);
            var body = await BodyReader.ReadAsync(req);
            // Validate the rule as it would be after the change.
            var merged = new JsonObject
            {
                ["audienceId"] = audienceId, ["field"] = existing.Field, ["operator"] = existing.Operator, ["values"] = existing.Values.DeepClone(),
                ["groupId"] = existing.GroupId, ["position"] = existing.Position,
            };
            foreach (var (k, v) in body.Root) merged[k] = v?.DeepClone();
            var check = BodyReader.Parse(merged.ToJsonString());
            ReadRule(check, audienceId, requireAudienceId: false);
            if (body.HasIssues) body.ThrowIfInvalid();
            check.ThrowIfInvalid();
            var r = engine.UpdateRule(org.Id, audienceId, ruleId, body.Root, Actor);
            return TypedResults.Json(AudienceEngine.RuleView(a, r), AudiencesJson.Default.AudienceRuleView);
        }).WithName("putAudiencesByAudienceIdRulesByRuleId").Produces<AudienceRuleView>().WithSummary("Update an audience rule");

        g.MapDelete("/{audienceId}/rules/{ruleId}", (string audienceId, string ruleId, Caller caller, AudienceEngine engine) =>
        {
            var org = caller.RequireSecret();
            var a = engine.Require(org.Id, audienceId);
            return TypedResults.Json(AudienceEngine.RuleView(a, engine.DeleteRule(org.Id, audienceId, ruleId, Actor)), AudiencesJson.Default.AudienceRuleView);
        }).WithName("deleteAudiencesByAudienceIdRulesByRuleId").Produces<AudienceRuleView>().WithSummary("Delete an audience rule");

        g.MapGet("/{audienceId}/status", (string audienceId, Caller caller, AudienceEngine engine, AudienceImports imports, Infrastructure.Store.DocumentStore store) =>
        {
            var org = caller.RequireSecret();
            var a = engine.Require(org.Id, audienceId);
            var src = a.SyncSourceId is null ? null : store.Get<ConsumerSyncSource>(a.SyncSourceId);
            var latest = imports.Latest(org.Id, audienceId);
            var inProgress = latest is { Status: "PENDING" or "PROCESSING" } && (latest.Source != "csv" || latest.Csv is not null);
            var view = engine.View(a, full: false);
            return TypedResults.Json(new AudienceStatus(a.Id, a.Version, false, inProgress, view.LastRefreshedAt, Json.Iso(src?.LastSyncedAt),
                inProgress ? 1 : 0, a.RefreshIntervalSeconds, src?.SyncStatus), AudiencesJson.Default.AudienceStatus);
        }).WithName("getAudiencesByAudienceIdStatus").Produces<AudienceStatus>().WithSummary("Get audience materialization status");

        g.MapPost("/{audienceId}/sync", (string audienceId, Caller caller, AudienceImports imports) =>
        {
            var source = imports.Sync(caller.RequireSecret().Id, audienceId, Actor);
            return TypedResults.Json(new AudienceSyncStarted(true, source.Id, "PENDING"), AudiencesJson.Default.AudienceSyncStarted);
        }).WithName("postAudiencesByAudienceIdSync").Produces<AudienceSyncStarted>().WithSummary("Re-sync a synced list audience from its external source");

        // admin-part2.md GET /consumers/{id}/audiences
        routes.Admin.MapGet("/consumers/{id}/audiences", (string id, Caller caller, AudienceEngine engine) =>
            TypedResults.Json(engine.AudiencesOf(caller.RequireSecret().Id, id).Select(a => engine.View(a, full: false)).ToList(), AudiencesJson.Default.ListAudienceView))
            .WithTags("Consumers").WithName("getConsumersByIdAudiences").Produces<List<AudienceView>>().WithSummary("Get all audiences a consumer is a member of");

        MapControl(routes);
    }

    /// <summary>
    /// Control plane: <c>PUT /_emulator/audience-sources/{provider}/lists/{listId}</c> <c>{name?, members:[{email?, phone?,
    /// name?, externalId?}], organizationId?}</c> (an emulated provider list; organization defaults to the seed's first),
    /// <c>GET /_emulator/audience-sources/{provider}/lists?organizationId=</c>, <c>DELETE …/lists/{listId}</c>, and the CSV
    /// upload target <c>PUT /_emulator/audience-imports/{importId}/upload</c> (body: CSV) named by <c>uploadUrl</c>.
    /// </summary>
    private static void MapControl(EmulatorRoutes routes)
    {
        var c = routes.Control.MapGroup("/audience-sources/{provider}/lists").WithTags("Emulator audience sources");
        c.MapPut("/{listId}", async (string provider, string listId, HttpRequest req, OrganizationDirectory orgs, AudienceImports imports) =>
        {
            CheckProvider(provider);
            var body = await BodyReader.ReadAsync(req, required: true);
            var name = body.String("name", nullable: true, minLength: 1);
            var orgId = body.String("organizationId") ?? req.Query["organizationId"].FirstOrDefault();
            var arr = body.Array("members", required: true);
            var members = new List<AudienceSourceMember>();
            foreach (var m in arr ?? [])
            {
                if (m is not JsonObject o) { body.AddIssue("members", "object", "Object", m, "Invalid type: each member must be an object"); continue; }
                string? S(string k) => o[k] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
                var member = new AudienceSourceMember { Email = S("email"), Phone = S("phone"), Name = S("name") ?? S("fullName"), ExternalId = S("externalId") ?? S("id") };
                if (member.Email is null && member.Phone is null) body.AddIssue("members", "required", "email | phone", o, "Invalid member: email or phone is required");
                members.Add(member);
            }
            body.ThrowIfInvalid();
            var org = Org(orgs, orgId);
            var list = imports.PutList(org.Id, provider, listId, name, members);
            return TypedResults.Json(ListView(list), AudiencesJson.Default.SourceListView);
        }).WithName("emulatorAudienceSourcePut").Produces<SourceListView>().WithSummary("Creates or replaces a list of an emulated email provider (Klaviyo, Mailchimp, SendGrid).");

        c.MapGet("", (string provider, HttpRequest req, OrganizationDirectory orgs, AudienceImports imports) =>
        {
            CheckProvider(provider);
            var org = Org(orgs, req.Query["organizationId"].FirstOrDefault());
            return TypedResults.Json(imports.Lists(org.Id, provider).Select(ListView).ToList(), AudiencesJson.Default.ListSourceListView);
        }).WithName("emulatorAudienceSourceList").Produces<List<SourceListView>>().WithSummary("The lists an emulated email provider holds.");

        c.MapDelete("/{listId}", (string provider, string listId, HttpRequest req, OrganizationDirectory orgs, AudienceImports imports) =>
        {
            CheckProvider(provider);
            var org = Org(orgs, req.Query["organizationId"].FirstOrDefault());
            if (!imports.DeleteList(org.Id, provider, listId)) throw ApiErrors.NotFoundError("List not found");
            return Results.NoContent();
        }).WithName("emulatorAudienceSourceDelete").WithSummary("Deletes a list of an emulated email provider (its next sync fails).");

        routes.Control.MapPut("/audience-imports/{importId}/upload", async (string importId, HttpRequest req, AudienceImports imports) =>
        {
            using var reader = new StreamReader(req.Body);
            var csv = await reader.ReadToEndAsync();
            return TypedResults.Json(AudienceEngine.ImportView(imports.Upload(importId, csv)), AudiencesJson.Default.AudienceImportView);
        }).WithTags("Emulator audience sources").WithName("emulatorAudienceImportUpload").Produces<AudienceImportView>().WithSummary("The uploadUrl of a CSV audience import (columns email, phone, fullName).");
    }

    private static void CheckProvider(string provider)
    {
        if (!AudienceTypes.Providers.Contains(provider)) throw ApiErrors.NotFoundError("Unknown provider: use klaviyo, mailchimp or sendgrid");
    }

    private static Organization Org(OrganizationDirectory orgs, string? id) =>
        (string.IsNullOrEmpty(id) ? orgs.All().FirstOrDefault() : orgs.ById(id)) ?? throw ApiErrors.NotFoundError("Organization not found");

    private static SourceListView ListView(AudienceSourceList l) => new(l.Provider, l.ListId, l.OrganizationId, l.Name, l.Members.Count, l.Members, Json.Iso(l.UpdatedAt));

    private static ConsumerPage MemberPage(List<Consumer> members, ConsumerInsights.Snapshot snapshot, ConsumerInsights insights, IQueryCollection query)
    {
        var (items, start, end) = Pagination.Slice(members, c => c.Id, query);
        return new ConsumerPage(items.Select(c => insights.View(c, snapshot)).ToList(), new PageInfo(start, end));
    }

    private static AudienceInput ReadAudience(BodyReader b, bool create)
    {
        var name = b.String("name", required: create, minLength: 1);
        var type = b.Enum("type", AudienceTypes.All, required: create);
        var description = b.String("description", nullable: true);
        var groupId = b.String("groupId", nullable: true);
        var groupName = b.String("groupName", nullable: true);
        var groupType = b.Enum("groupType", AudienceTypes.GroupTypes, nullable: true);
        var iconName = b.String("iconName", nullable: true);
        var lastRefreshedAt = b.DateTime("lastRefreshedAt");
        var metadata = b.Object("metadata", nullable: true);
        var refresh = b.Int("refreshIntervalSeconds", nullable: true, min: 0);
        JsonObject? sync = null;
        List<RuleInput>? rules = null;
        if (create)
        {
            sync = b.Object("primarySyncSource", nullable: true);
            if (sync is not null)
            {
                var sb = BodyReader.Parse(sync.ToJsonString());
                sb.String("syncSource", required: true, minLength: 1);
                sb.String("syncSourceId", required: true, minLength: 1);
                sb.Enum("syncStatus", ["PENDING", "SUCCESS", "FAILED"], nullable: true);
                Merge(b, sb, "primarySyncSource");
            }
            rules = ReadRules(b, "rules", null, requireAudienceId: false, required: false);
        }
        else
        {
            foreach (var k in new[] { "rules", "primarySyncSource" })
                if (b.Root.ContainsKey(k)) b.AddIssue(k, "never", "never", b.Root[k], $"Invalid key: {k} cannot be updated here");
        }
        var present = b.Root.Select(p => p.Key).ToHashSet();
        return new AudienceInput(present, name, type, description, groupId, groupName, groupType, iconName, lastRefreshedAt,
            metadata?.DeepClone() as JsonObject, refresh, sync, rules);
    }

    /// <summary>Copies a nested reader's issues into <paramref name="outer"/> under <paramref name="key"/>.</summary>
    private static void Merge(BodyReader outer, BodyReader inner, string key)
    {
        if (!inner.HasIssues) return;
        try { inner.ThrowIfInvalid(); }
        catch (ApiException ex) when (ex.Body?["issues"] is JsonArray issues)
        {
            foreach (var i in issues)
                outer.AddIssue(key, i!["type"]!.GetValue<string>(), i["expected"]!.GetValue<string>(), i["received"]!.DeepClone(),
                    $"{key}: {i["message"]!.GetValue<string>()}", i["kind"]!.GetValue<string>());
        }
    }

    private static List<RuleInput>? ReadRules(BodyReader b, string key, string? audienceId, bool requireAudienceId, bool required)
    {
        var arr = b.Array(key, required: required, nullable: !required);
        if (arr is null) return required ? null : [];
        var list = new List<RuleInput>();
        for (int i = 0; i < arr.Count; i++)
        {
            var rb = BodyReader.Parse(arr[i]?.ToJsonString() ?? "null", required: true);
            var r = ReadRule(rb, audienceId, requireAudienceId);
            Merge(b, rb, $"{key}[{i}]");
            if (r is not null) list.Add(r);
        }
        return list;
    }

    private static RuleInput? ReadRule(BodyReader b, string? audienceId, bool requireAudienceId)
    {
        var aid = b.String("audienceId", required: requireAudienceId);
        if (aid is not null && audienceId is not null && aid != audienceId)
            b.AddIssue("audienceId", "value", audienceId, b.Root["audienceId"], $"Invalid value: audienceId must be {audienceId} (the audience in the path)");
        var field = b.String("field", required: true, minLength: 1);
        if (field is not null && !ConsumerFields.Contains(field) && !(field.StartsWith("metadata.", StringComparison.Ordinal) && field.Length > 9))
            b.AddIssue("field", "picklist", "a consumer attribute or metadata.KEY", b.Root["field"], $"Invalid field: \"{field}\" is not a consumer attribute (e.g. loyaltyBalance, ltv, totalOrders, email, metadata.KEY)");
        var op = b.Enum("operator", AudienceTypes.Operators, required: true);
        var values = b.Array("values", required: true);
        if (values is not null)
        {
            foreach (var v in values)
                if (v is not null && !(v is JsonValue jv && jv.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                    b.AddIssue("values", "union", "string | number | boolean | null", v, "Invalid type: values must be strings, numbers, booleans or null");
            var need = op switch { "BETWEEN" => 2, "EXISTS" or "NOT_EXISTS" => 0, null => 0, _ => 1 };
            if (values.Count < need)
                b.AddIssue("values", "min_length", $">={need}", values, $"Invalid length: {op} needs at least {need} value(s) but received {values.Count}");
        }
        var groupId = b.String("groupId", nullable: true);
        var position = b.Number("position", nullable: true);
        if (b.HasIssues) return null;
        return new RuleInput(field!, op!, (JsonArray)values!.DeepClone(), groupId, position);
    }

    private static readonly string[] TierAttributes = ["loyaltyBalance", "loyaltyLifetimePoints", "ltv", "totalOrders", "aov", "activityScore", "purchaseFrequencyScore", "monetaryScore"];

    private static (string? GroupName, string? Attribute, List<TierInput> Tiers) ReadTiers(BodyReader b)
    {
        var groupName = b.String("groupName", required: true, minLength: 1);
        var attribute = b.Enum("attribute", TierAttributes, required: true);
        var arr = b.Array("tiers", required: true);
        var tiers = new List<TierInput>();
        if (arr is { Count: 0 }) b.AddIssue("tiers", "min_length", ">=1", arr, "Invalid length: Expected >=1 but received 0");
        for (int i = 0; i < (arr?.Count ?? 0); i++)
        {
            var tb = BodyReader.Parse(arr![i]?.ToJsonString() ?? "null", required: true);
            var name = tb.String("name", required: true, minLength: 1);
            var start = NumberOrString(tb, "startValue", required: true);
            var order = tb.Number("order", required: true);
            var end = NumberOrString(tb, "endValue", required: false);
            var icon = tb.String("iconName", nullable: true);
            if (start is decimal s && end is decimal e && e <= s)
                tb.AddIssue("endValue", "min_value", $">{s}", tb.Root["endValue"], $"Invalid value: endValue must be greater than startValue ({s})");
            Merge(b, tb, $"tiers[{i}]");
            if (!tb.HasIssues) tiers.Add(new TierInput(name!, start!.Value, (int)order!.Value, end, icon));
        }
        if (tiers.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1) is { } dup)
            b.AddIssue("tiers", "unique", "unique names", b.Root["tiers"], $"Invalid value: tier name \"{dup.Key}\" is used twice");
        var sorted = tiers.OrderBy(t => t.StartValue).ToList();
        for (int i = 0; i + 1 < sorted.Count; i++)
        {
            var (a, c) = (sorted[i], sorted[i + 1]);
            if (a.EndValue is null || a.EndValue > c.StartValue)
                b.AddIssue("tiers", "overlap", "non-overlapping ranges", b.Root["tiers"],
                    $"Invalid value: tier ranges overlap: \"{a.Name}\" [{a.StartValue}, {(a.EndValue is null ? "∞" : a.EndValue)}) and \"{c.Name}\" [{c.StartValue}, {(c.EndValue is null ? "∞" : c.EndValue)})");
        }
        return (groupName, attribute, tiers);
    }

    private static decimal? NumberOrString(BodyReader b, string key, bool required)
    {
        var n = b.Root[key];
        if (!b.Root.ContainsKey(key) || n is null)
        {
            if (required) b.AddIssue(key, "union", "number | string", n, $"Invalid type: Expected number | string but received {(b.Root.ContainsKey(key) ? "null" : "undefined")}");
            return null;
        }
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<decimal>();
        if (n is JsonValue s && s.GetValueKind() == JsonValueKind.String && decimal.TryParse(s.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d)) return d;
        b.AddIssue(key, "union", "number | string", n, $"Invalid type: Expected number | numeric string but received {Validation.Describe(n)}");
        return null;
    }
}
