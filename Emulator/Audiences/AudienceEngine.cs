using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Audiences;

/// <summary>A rule as given (create, replace-all, update).</summary>
public sealed record RuleInput(string Field, string Operator, JsonArray Values, string? GroupId, double? Position);

/// <summary>Audience fields of <c>POST</c>/<c>PUT /audiences</c>; <see cref="Present"/> names the fields the body carried.</summary>
public sealed record AudienceInput(HashSet<string> Present, string? Name, string? Type, string? Description, string? GroupId, string? GroupName,
    string? GroupType, string? IconName, DateTimeOffset? LastRefreshedAt, JsonObject? Metadata, int? RefreshIntervalSeconds,
    JsonObject? PrimarySyncSource, List<RuleInput>? Rules);

/// <summary>One tier of a loyalty-tier group: members have <c>startValue ≤ attribute &lt; endValue</c> (no end = no upper bound).</summary>
public sealed record TierInput(string Name, decimal StartValue, int Order, decimal? EndValue, string? IconName);

/// <summary>
/// Audiences (admin-part1.md): CRUD, rules, membership, groups and loyalty-tier groups. Rules are evaluated against
/// the consumer attributes of <see cref="ConsumerInsights"/> (the admin <c>Consumer</c> fields, plus <c>metadata.KEY</c>)
/// each time members or the count are asked for, so both always agree. Rules without <c>groupId</c> must all hold; rules
/// sharing a <c>groupId</c> hold when any one of them does. No HTTP types.
/// </summary>
public sealed class AudienceEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, ConsumerInsights insights) : IAudienceMembership
{
    public const string NotFound = "Audience not found", RuleNotFound = "Audience rule not found", GroupNotFound = "Audience group not found";

    public Audience Require(string organizationId, string id)
    {
        var a = store.Get<Audience>(id);
        return a is not null && a.OrganizationId == organizationId && !a.Archived ? a : throw ApiErrors.NotFoundError(NotFound);
    }

    public List<Audience> List(string organizationId) => store.Where<Audience>(a => a.OrganizationId == organizationId && !a.Archived);

    private DateTimeOffset Now(string organizationId) => clocks.For(organizationId).GetUtcNow();

    public Audience Create(string organizationId, AudienceInput input, string actor)
    {
        return store.Transaction(() =>
        {
            var now = Now(organizationId);
            var a = new Audience
            {
                Id = ids.NewUuid("audience"), OrganizationId = organizationId, CreatedAt = now, CreatedBy = actor, Name = input.Name!, Type = input.Type!,
            };
            Apply(a, input);
            if (input.PrimarySyncSource is { } src)
            {
                var s = new ConsumerSyncSource
                {
                    Id = ids.NewUuid("sync-source"), OrganizationId = organizationId, CreatedAt = now, CreatedBy = actor,
                    SyncSource = src["syncSource"]!.GetValue<string>(), SyncSourceId = src["syncSourceId"]!.GetValue<string>(),
                    SourceData = src["sourceData"] as JsonObject, SyncStatus = src["syncStatus"]?.GetValue<string>() ?? "PENDING",
                };
                store.Put(s);
                a.SyncSourceId = s.Id;
            }
            a.Rules = (input.Rules ?? []).Select(NewRule).ToList();
            store.Put(a);
            return a;
        });
    }

    private static void Apply(Audience a, AudienceInput i)
    {
        if (i.Present.Contains("name")) a.Name = i.Name!;
        if (i.Present.Contains("type")) a.Type = i.Type!;
        if (i.Present.Contains("description")) a.Description = i.Description;
        if (i.Present.Contains("groupId")) a.GroupId = i.GroupId;
        if (i.Present.Contains("groupName")) a.GroupName = i.GroupName;
        if (i.Present.Contains("groupType")) a.GroupType = i.GroupType;
        if (i.Present.Contains("iconName")) a.IconName = i.IconName;
        if (i.Present.Contains("lastRefreshedAt")) a.LastRefreshedAt = i.LastRefreshedAt;
        if (i.Present.Contains("metadata")) a.Metadata = i.Metadata;
        if (i.Present.Contains("refreshIntervalSeconds")) a.RefreshIntervalSeconds = i.RefreshIntervalSeconds;
    }

    private AudienceRuleDoc NewRule(RuleInput r) => new()
    {
        Id = ids.NewUuid("audience-rule"), Field = r.Field, Operator = r.Operator, Values = (JsonArray)r.Values.DeepClone(), GroupId = r.GroupId, Position = r.Position ?? 0,
    };

    public Audience Update(string organizationId, string id, AudienceInput input, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, id);
            Apply(a, input);
            a.UpdatedAt = Now(organizationId); a.UpdatedBy = actor; a.Version++;
            store.Put(a);
            return a;
        });
    }

    /// <summary>Archives the audience (it disappears from lists and reads; sequences limited to it admit nobody).</summary>
    public Audience Delete(string organizationId, string id, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, id);
            a.Archived = true; a.UpdatedAt = Now(organizationId); a.UpdatedBy = actor;
            store.Put(a);
            return a;
        });
    }

    // ---- rules ----

    public AudienceRuleDoc RequireRule(Audience a, string ruleId) => a.Rules.FirstOrDefault(r => r.Id == ruleId) ?? throw ApiErrors.NotFoundError(RuleNotFound);

    public AudienceRuleDoc AddRule(string organizationId, string audienceId, RuleInput input, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, audienceId);
            var r = NewRule(input);
            a.Rules.Add(r);
            Touch(a, actor);
            return r;
        });
    }

    public List<AudienceRuleDoc> ReplaceRules(string organizationId, string audienceId, List<RuleInput> rules, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, audienceId);
            a.Rules = rules.Select(NewRule).ToList();
            Touch(a, actor);
            return a.Rules;
        });
    }

    public AudienceRuleDoc UpdateRule(string organizationId, string audienceId, string ruleId, JsonObject patch, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, audienceId);
            var r = RequireRule(a, ruleId);
            if (patch.ContainsKey("field")) r.Field = patch["field"]!.GetValue<string>();
            if (patch.ContainsKey("operator")) r.Operator = patch["operator"]!.GetValue<string>();
            if (patch.ContainsKey("values")) r.Values = (JsonArray)patch["values"]!.DeepClone();
            if (patch.ContainsKey("groupId")) r.GroupId = patch["groupId"]?.GetValue<string>();
            if (patch.ContainsKey("position")) r.Position = patch["position"]?.GetValue<double>() ?? 0;
            Touch(a, actor);
            return r;
        });
    }

    public AudienceRuleDoc DeleteRule(string organizationId, string audienceId, string ruleId, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, audienceId);
            var r = RequireRule(a, ruleId);
            a.Rules.Remove(r);
            Touch(a, actor);
            return r;
        });
    }

    private void Touch(Audience a, string actor)
    {
        a.Version++; a.UpdatedAt = Now(a.OrganizationId); a.UpdatedBy = actor;
        store.Put(a);
    }

    // ---- membership ----

    /// <summary>The audience's members (non-archived consumers), in consumer creation order.</summary>
    public List<Consumer> Members(Audience a, ConsumerInsights.Snapshot? snapshot = null)
    {
        lock (store.Sync)
        {
            var consumers = store.Where<Consumer>(c => c.OrganizationId == a.OrganizationId && !c.Archived);
            if (a.Type != AudienceTypes.Dynamic)
            {
                var set = a.MemberIds.ToHashSet();
                return consumers.Where(c => set.Contains(c.Id)).ToList();
            }
            snapshot ??= insights.For(a.OrganizationId);
            var s = snapshot;
            return consumers.Where(c => Matches(a, Attributes(insights.View(c, s, withSync: false)))).ToList();
        }
    }

    public int AddMembers(string organizationId, string audienceId, List<string> consumerIds, string actor)
    {
        return store.Transaction(() =>
        {
            var a = Require(organizationId, audienceId);
            if (a.Type != AudienceTypes.StaticList) throw ApiErrors.BadRequest("Members can only be added to a STATIC_LIST audience");
            var unknown = consumerIds.Where(id => store.Get<Consumer>(id) is not { } c || c.OrganizationId != organizationId || c.Archived).Distinct().ToList();
            if (unknown.Count > 0)
                throw Validation.Single("consumerIds", "consumer", "consumer ids of this organization", "[" + string.Join(", ", unknown.Select(u => "\"" + u + "\"")) + "]",
                    "Unknown consumer ids: " + string.Join(", ", unknown));
            var added = 0;
            foreach (var id in consumerIds.Distinct())
                if (!a.MemberIds.Contains(id)) { a.MemberIds.Add(id); added++; }
            if (added > 0) Touch(a, actor);
            return added;
        });
    }

    /// <summary><see cref="IAudienceMembership"/>: routing's <c>AUDIENCE_NOT_MEMBER</c> check.</summary>
    public bool IsMember(string organizationId, string audienceId, string consumerId)
    {
        lock (store.Sync)
        {
            var a = store.Get<Audience>(audienceId);
            var c = store.Get<Consumer>(consumerId);
            if (a is null || a.Archived || a.OrganizationId != organizationId || c is null || c.Archived || c.OrganizationId != organizationId) return false;
            if (a.Type != AudienceTypes.Dynamic) return a.MemberIds.Contains(consumerId);
            return Matches(a, Attributes(insights.View(c, withSync: false)));
        }
    }

    /// <summary>The audiences a consumer belongs to.</summary>
    public List<Audience> AudiencesOf(string organizationId, string consumerId)
    {
        lock (store.Sync)
        {
            var c = store.Get<Consumer>(consumerId);
            if (c is null || c.OrganizationId != organizationId) throw ApiErrors.NotFoundError(AdminConsumerService.NotFound);
            if (c.Archived) return [];
            var attrs = Attributes(insights.View(c, withSync: false));
            return List(organizationId).Where(a => a.Type == AudienceTypes.Dynamic ? Matches(a, attrs) : a.MemberIds.Contains(consumerId)).ToList();
        }
    }

    public static JsonObject Attributes(AdminConsumer v) => JsonSerializer.SerializeToNode(v, ConsumersJson.Default.AdminConsumer)!.AsObject();

    /// <summary>Every rule without a group holds, and in every group at least one rule holds. No rules: nobody.</summary>
    public static bool Matches(Audience a, JsonObject attrs)
    {
        if (a.Rules.Count == 0) return false;
        foreach (var r in a.Rules.Where(r => r.GroupId is null))
            if (!Holds(r, attrs)) return false;
        foreach (var g in a.Rules.Where(r => r.GroupId is not null).GroupBy(r => r.GroupId))
            if (!g.Any(r => Holds(r, attrs))) return false;
        return true;
    }

    private static JsonNode? Lookup(JsonObject attrs, string field)
    {
        if (field.StartsWith("metadata.", StringComparison.Ordinal)) return (attrs["metadata"] as JsonObject)?[field[9..]];
        return attrs[field];
    }

    public static bool Holds(AudienceRuleDoc r, JsonObject attrs)
    {
        var v = Lookup(attrs, r.Field);
        var values = r.Values.ToList();
        bool Exists() => v is not null && !(v is JsonValue s && s.GetValueKind() == JsonValueKind.String && s.GetValue<string>().Length == 0);
        bool Eq(JsonNode? x) => Compare(v, x) == 0 || (v is JsonArray arr && arr.Any(e => Compare(e, x) == 0));
        int? Cmp(int i) => i < values.Count ? Compare(v, values[i]) : null;
        return r.Operator switch
        {
            "EXISTS" => Exists(),
            "NOT_EXISTS" => !Exists(),
            "EQUALS" or "IN" => values.Any(Eq),
            "NOT_EQUALS" or "NOT_IN" => !values.Any(Eq),
            "GREATER_THAN" => Cmp(0) > 0,
            "GREATER_THAN_OR_EQUAL" => Cmp(0) >= 0,
            "LESS_THAN" => Cmp(0) < 0,
            "LESS_THAN_OR_EQUAL" => Cmp(0) <= 0,
            "BETWEEN" => Cmp(0) >= 0 && Cmp(1) <= 0,
            "CONTAINS" => values.Any(x => Contains(v, x)),
            "NOT_CONTAINS" => !values.Any(x => Contains(v, x)),
            _ => false,
        };
    }

    private static bool Contains(JsonNode? v, JsonNode? x)
    {
        if (v is JsonArray arr) return arr.Any(e => Compare(e, x) == 0);
        return v is not null && x is not null && Text(v) is { } s && Text(x) is { } t && s.Contains(t, StringComparison.OrdinalIgnoreCase);
    }

    private static string? Text(JsonNode? n) => n is JsonValue v ? (v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString()) : null;

    private static decimal? Num(JsonNode? n) => n is JsonValue v
        ? v.GetValueKind() == JsonValueKind.Number ? v.GetValue<decimal>()
        : v.GetValueKind() == JsonValueKind.String && decimal.TryParse(v.GetValue<string>(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : null
        : null;

    /// <summary>Numbers (and decimal strings) numerically, booleans and strings (case-insensitive; ISO dates) otherwise; null when incomparable.</summary>
    private static int? Compare(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null) return a is null && b is null ? 0 : null;
        if (a is JsonArray || b is JsonArray || a is JsonObject || b is JsonObject) return null;
        if (Num(a) is decimal x && Num(b) is decimal y) return x.CompareTo(y);
        var ka = ((JsonValue)a).GetValueKind(); var kb = ((JsonValue)b).GetValueKind();
        if (ka is JsonValueKind.True or JsonValueKind.False || kb is JsonValueKind.True or JsonValueKind.False)
            return Text(a)!.Equals(Text(b), StringComparison.OrdinalIgnoreCase) ? 0 : null;
        var sa = Text(a)!; var sb = Text(b)!;
        if (DateTimeOffset.TryParse(sa, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var da)
            && DateTimeOffset.TryParse(sb, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var db) && sa.Length >= 8 && sb.Length >= 8)
            return da.CompareTo(db);
        return string.Compare(sa, sb, StringComparison.OrdinalIgnoreCase);
    }

    // ---- groups and loyalty tiers ----

    public List<Audience> Group(string organizationId, string groupId)
    {
        var list = List(organizationId).Where(a => a.GroupId == groupId).ToList();
        return list.Count > 0 ? list : throw ApiErrors.NotFoundError(GroupNotFound);
    }

    public List<Audience> DeleteGroup(string organizationId, string groupId, string actor)
    {
        return store.Transaction(() =>
        {
            var list = Group(organizationId, groupId);
            foreach (var a in list) Delete(organizationId, a.Id, actor);
            return list;
        });
    }

    /// <summary>Creates (or, with <paramref name="groupId"/>, replaces) a loyalty-tier group: one DYNAMIC audience per tier,
    /// matched by name on update (unmatched old tiers are archived).</summary>
    public (string GroupId, List<Audience> Audiences) SaveTiers(string organizationId, string? groupId, string groupName, string attribute, List<TierInput> tiers, string actor)
    {
        return store.Transaction(() =>
        {
            var existing = groupId is null ? [] : Group(organizationId, groupId);
            var gid = groupId ?? ids.NewUuid("audience-group");
            var now = Now(organizationId);
            var result = new List<Audience>();
            foreach (var t in tiers.OrderBy(t => t.Order))
            {
                var rules = new List<RuleInput> { new(attribute, "GREATER_THAN_OR_EQUAL", [JsonValue.Create(t.StartValue)], null, 0) };
                if (t.EndValue is decimal end) rules.Add(new(attribute, "LESS_THAN", [JsonValue.Create(end)], null, 1));
                var meta = new JsonObject
                {
                    ["tierOrder"] = t.Order, ["attribute"] = attribute, ["startValue"] = t.StartValue,
                    ["endValue"] = t.EndValue is decimal e ? JsonValue.Create(e) : null,
                };
                var a = existing.FirstOrDefault(x => string.Equals(x.Name, t.Name, StringComparison.Ordinal));
                if (a is null)
                {
                    a = new Audience { Id = ids.NewUuid("audience"), OrganizationId = organizationId, CreatedAt = now, CreatedBy = actor, Type = AudienceTypes.Dynamic };
                }
                else { a.UpdatedAt = now; a.UpdatedBy = actor; a.Version++; }
                a.Name = t.Name; a.GroupId = gid; a.GroupName = groupName; a.GroupType = "SEGMENTED_VALUE"; a.IconName = t.IconName; a.Metadata = meta;
                a.Rules = rules.Select(NewRule).ToList();
                store.Put(a);
                result.Add(a);
            }
            foreach (var old in existing.Where(x => result.All(r => r.Id != x.Id))) Delete(organizationId, old.Id, actor);
            return (gid, result);
        });
    }

    // ---- views ----

    public AudienceView View(Audience a, bool full = true)
    {
        var src = a.SyncSourceId is null ? null : store.Get<ConsumerSyncSource>(a.SyncSourceId);
        return new AudienceView
        {
            Id = a.Id, OrganizationId = a.OrganizationId, CreatedAt = Json.Iso(a.CreatedAt), CreatedBy = a.CreatedBy, Archived = a.Archived,
            Name = a.Name, Type = a.Type,
            Rules = full ? a.Rules.Select(r => RuleView(a, r)).ToList() : null,
            Imports = full ? store.Where<AudienceImportDoc>(i => i.AudienceId == a.Id).Select(i => ImportView(i)).ToList() : null,
            Description = a.Description, GroupId = a.GroupId, GroupName = a.GroupName, GroupType = a.GroupType, IconName = a.IconName,
            LastRefreshedAt = Json.Iso(a.Type == AudienceTypes.Dynamic && a.Rules.Count > 0 ? Now(a.OrganizationId) : a.LastRefreshedAt),
            Metadata = a.Metadata?.DeepClone() as JsonObject,
            PrimaryExternalId = src?.SyncSourceId, PrimaryLastSyncedAt = Json.Iso(src?.LastSyncedAt), PrimarySourceVendor = src?.SyncSource,
            PrimarySyncSource = full ? src?.View() : null, PrimarySyncSourceId = a.SyncSourceId,
            RefreshIntervalSeconds = a.RefreshIntervalSeconds, UpdatedAt = Json.Iso(a.UpdatedAt), UpdatedBy = a.UpdatedBy,
        };
    }

    public static AudienceRuleView RuleView(Audience a, AudienceRuleDoc r) =>
        new(r.Id, a.OrganizationId, a.Id, r.Field, r.Operator, (JsonArray)r.Values.DeepClone(), r.GroupId, r.Position);

    public static AudienceImportView ImportView(AudienceImportDoc i, string? uploadUrl = null) => new()
    {
        Id = i.Id, OrganizationId = i.OrganizationId, CreatedAt = Json.Iso(i.CreatedAt), CreatedBy = i.CreatedBy, Archived = i.Archived,
        AudienceId = i.AudienceId, Status = i.Status, Progress = i.Progress, ProcessedConsumers = i.ProcessedConsumers, ErrorCount = i.ErrorCount,
        S3Key = i.S3Key, Errors = i.Errors?.DeepClone() as JsonArray, TotalConsumers = i.TotalConsumers, UpdatedAt = Json.Iso(i.UpdatedAt),
        UpdatedBy = i.UpdatedBy, UploadUrl = uploadUrl,
    };
}
