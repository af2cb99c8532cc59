using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fanfare.Emulator.Analytics;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions.Sequences;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Messaging.Announcements;

/// <summary>
/// Announcements: CRUD (admin-part1.md) and delivery on the emulator clock. Each live announcement has at most one
/// scheduler job (<c>announcement:{id}</c>) at its due instant: <c>scheduledAt</c> (POINT_IN_TIME) or the anchor's instant
/// plus <c>offsetSeconds</c> (RELATIVE: the experience's derived <c>openAt</c>/<c>closeAt</c>, or the distribution's
/// <c>openAt</c>/<c>closeAt</c>/settle instant — <c>settleAt</c>, <c>drawAt</c>, else <c>closeAt</c>). When the job runs the
/// due instant is computed again: if the anchor moved later, the job moves with it; and every pending RELATIVE announcement
/// is planned again when a distribution of the organization is updated, opens or closes (<see cref="AnnouncementReplanner"/>). Editing reschedules, deleting cancels;
/// an announcement already due when it is saved goes out at once. EMAIL/SMS go to each recipient through
/// <see cref="MessageOutbox"/> (inbox, SMS sink, SMTP relay) and leave a <c>messageSent</c> beacon event for analytics;
/// the social types (and DIRECT) are recorded as sent.
/// Recipients: with <c>includeWaitlist</c>, the active (WAITING/NOTIFIED) entries of the waitlists of the experience's
/// sequences (only <c>sequenceId</c>'s when set); with <c>includeAudience</c>, the members (<see cref="IAudienceMembers"/>) of
/// those sequences' audiences. A consumer is sent one message even when both name them.
/// </summary>
public sealed partial class AnnouncementEngine(
    DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, DistributionRegistry registry,
    IServiceProvider services, MessageOutbox messages, IAudienceMembers audiences, OrganizationDirectory orgs,
    IEnumerable<IBeaconEventSubscriber> beaconSubscribers, ILogger<AnnouncementEngine> log)
{
    public const string NotFound = "Announcement not found";
    public const string JobKind = "announcement.send";

    private ExperienceService Experiences => services.GetRequiredService<ExperienceService>();
    private SequenceService Sequences => services.GetRequiredService<SequenceService>();

    public List<Announcement> List(string orgId) => store.Where<Announcement>(a => a.OrganizationId == orgId && !a.Archived);

    public Announcement Require(string orgId, string id) =>
        store.Get<Announcement>(id) is { } a && a.OrganizationId == orgId && !a.Archived ? a : throw ApiErrors.NotFoundError(NotFound);

    // ------------------------------------------------------------------ input

    /// <summary>Reads a POST (every field of the chosen <c>oneOf</c> variant) or a PUT (all optional) into a draft.</summary>
    public Announcement Read(BodyReader body, Announcement? existing, Organization org)
    {
        bool create = existing is null;
        var a = existing is null ? new Announcement() : Copy(existing);
        string? S(string key, bool required = false, bool nullable = true) => body.String(key, required, nullable);

        var strategy = body.Enum("timingStrategy", ["POINT_IN_TIME", "RELATIVE"], required: create);
        var type = body.Enum("type", AnnouncementTypes.All, required: create);
        var content = body.String("content", required: create);
        var title = body.String("title", required: create);
        var includeAudience = body.Bool("includeAudience", required: create);
        var includeWaitlist = body.Bool("includeWaitlist", required: create);
        var experienceId = body.Uuid("experienceId", required: create);
        var timeZone = body.String("timeZone", required: create);
        if (timeZone is not null && !OrganizationAdmin.KnownTimeZone(timeZone))
            body.AddIssue("timeZone", "timezone", "IANA time zone", body.Root["timeZone"], $"Invalid time zone: Received \"{timeZone}\"");
        var creativeDesignId = body.Uuid("creativeDesignId", nullable: true);
        var creativeDocument = CreativeDocuments.Read(body, "creativeDocument", required: false, nullable: true, strict: false);
        var templateKey = S("creativeTemplateKey");
        var imageUrl = S("imageUrl");
        var link = S("link");
        var metadata = ReadMetadata(body);
        var sequenceId = body.Uuid("sequenceId", nullable: true);
        var shortContent = S("shortContent");
        var templateData = body.Object("templateData", nullable: true);

        // Variant fields: POST takes only those of its variant; PUT takes any and the result is checked as a whole.
        var effective = strategy ?? a.TimingStrategy;
        string? scheduledText = null, anchorEntity = null, anchorMoment = null, distributionId = null, distributionType = null;
        double? offset = null;
        if (!create || effective == "POINT_IN_TIME")
            scheduledText = body.String("scheduledAt", required: create && effective == "POINT_IN_TIME", nullable: !create);
        if (!create || effective == "RELATIVE")
        {
            anchorEntity = body.Enum("anchorEntity", ["EXPERIENCE", "DISTRIBUTION"], required: create, nullable: !create);
            var entity = anchorEntity ?? (create ? null : body.Has("anchorEntity") ? null : a.AnchorEntity);
            anchorMoment = body.Enum("anchorMoment", entity == "EXPERIENCE" ? new[] { "OPEN", "CLOSE" } : new[] { "OPEN", "CLOSE", "SETTLE" }, required: create, nullable: !create);
            offset = body.Number("offsetSeconds", required: create, nullable: !create);
            if (!create || entity == "DISTRIBUTION")
            {
                distributionId = body.Uuid("distributionId", required: create && entity == "DISTRIBUTION", nullable: !create);
                distributionType = body.Enum("distributionType", AnnouncementTypes.DistributionTypes, required: create && entity == "DISTRIBUTION", nullable: !create);
            }
        }
        DateTimeOffset? scheduledAt = null;
        if (scheduledText is not null)
        {
            scheduledAt = ParseInstant(scheduledText, timeZone ?? a.TimeZone);
            if (scheduledAt is null)
                body.AddIssue("scheduledAt", "iso_timestamp", "date-time", body.Root["scheduledAt"], $"Invalid timestamp: Received \"{scheduledText}\"");
        }
        body.ThrowIfInvalid();

        if (strategy is not null) a.TimingStrategy = strategy;
        if (type is not null) a.Type = type;
        if (content is not null) a.Content = content;
        if (title is not null) a.Title = title;
        if (includeAudience is not null) a.IncludeAudience = includeAudience.Value;
        if (includeWaitlist is not null) a.IncludeWaitlist = includeWaitlist.Value;
        if (experienceId is not null) a.ExperienceId = experienceId;
        if (timeZone is not null) a.TimeZone = timeZone;
        if (body.Has("creativeDesignId")) a.CreativeDesignId = creativeDesignId;
        if (body.Has("creativeDocument")) a.CreativeDocument = (JsonObject?)creativeDocument?.DeepClone();
        if (body.Has("creativeTemplateKey")) a.CreativeTemplateKey = templateKey;
        if (body.Has("imageUrl")) a.ImageUrl = imageUrl;
        if (body.Has("link")) a.Link = link;
        if (body.Has("metadata")) a.Metadata = (JsonObject?)metadata?.DeepClone();
        if (body.Has("sequenceId")) a.SequenceId = sequenceId;
        if (body.Has("shortContent")) a.ShortContent = shortContent;
        if (body.Has("templateData")) a.TemplateData = (JsonObject?)templateData?.DeepClone();
        if (body.Has("scheduledAt")) a.ScheduledAt = scheduledAt;
        if (body.Has("anchorEntity")) a.AnchorEntity = anchorEntity;
        if (body.Has("anchorMoment")) a.AnchorMoment = anchorMoment;
        if (body.Has("offsetSeconds")) a.OffsetSeconds = offset;
        if (body.Has("distributionId")) a.DistributionId = distributionId;
        if (body.Has("distributionType")) a.DistributionType = distributionType;
        if (a.TimingStrategy == "POINT_IN_TIME")
        {
            a.AnchorEntity = null; a.AnchorMoment = null; a.OffsetSeconds = null; a.DistributionId = null; a.DistributionType = null;
        }
        else
        {
            a.ScheduledAt = null;
            if (a.AnchorEntity == "EXPERIENCE") { a.DistributionId = null; a.DistributionType = null; }
        }

        CheckWhole(body, a);
        CheckReferences(org, a);
        return a;
    }

    /// <summary>A PUT may leave the announcement half of one variant: report what the chosen timing still lacks.</summary>
    private static void CheckWhole(BodyReader body, Announcement a)
    {
        void Missing(string key, string expected) =>
            body.AddIssue(key, expected == "number" ? "number" : "string", expected, null, $"Invalid type: Expected {expected} but received null", "schema");
        if (a.TimingStrategy == "POINT_IN_TIME" && a.ScheduledAt is null) Missing("scheduledAt", "string");
        if (a.TimingStrategy == "RELATIVE")
        {
            if (a.AnchorEntity is null) Missing("anchorEntity", "\"EXPERIENCE\" | \"DISTRIBUTION\"");
            if (a.AnchorMoment is null) Missing("anchorMoment", "\"OPEN\" | \"CLOSE\" | \"SETTLE\"");
            else if (a.AnchorEntity == "EXPERIENCE" && a.AnchorMoment == "SETTLE")
                body.AddIssue("anchorMoment", "picklist", "\"OPEN\" | \"CLOSE\"", JsonValue.Create(a.AnchorMoment), "Invalid type: Expected \"OPEN\" | \"CLOSE\" but received \"SETTLE\"", "schema");
            if (a.OffsetSeconds is null) Missing("offsetSeconds", "number");
            if (a.AnchorEntity == "DISTRIBUTION")
            {
                if (a.DistributionId is null) Missing("distributionId", "string");
                if (a.DistributionType is null) Missing("distributionType", "\"QUEUE\" | \"DRAW\" | \"AUCTION\" | \"APPOINTMENT\" | \"TIMED_RELEASE\"");
            }
        }
        body.ThrowIfInvalid();
    }

    private void CheckReferences(Organization org, Announcement a)
    {
        Experiences.Require(org.Id, a.ExperienceId);
        if (a.SequenceId is not null) Sequences.Require(org.Id, a.SequenceId);
        if (a.AnchorEntity == "DISTRIBUTION" && a.DistributionId is not null)
        {
            var found = registry.Find(org.Id, a.DistributionId);
            if (found is null || found.Value.Distribution.Archived) throw ApiErrors.NotFoundError("Distribution not found");
            var actual = found.Value.Engine.Type.ToUpperInvariant();
            if (actual != a.DistributionType)
                throw Validation.Single("distributionType", "literal", $"\"{actual}\"", $"\"{a.DistributionType}\"",
                    $"Invalid type: distribution {a.DistributionId} is a {actual}, not a {a.DistributionType}");
        }
    }

    private static JsonObject? ReadMetadata(BodyReader body)
    {
        var m = body.Object("metadata", nullable: true);
        if (m is null) return null;
        var r = BodyReader.Parse(m.ToJsonString());
        var email = r.Object("email");
        if (email is not null)
        {
            var e = BodyReader.Parse(email.ToJsonString());
            e.String("fromEmail", required: true, format: "email");
            e.String("replyToEmail", required: true, format: "email");
            e.String("fromName");
            e.String("replyToName");
            r.Absorb(e, [RequestChecks.Step(r.Root, "email")]);
        }
        body.Absorb(r, [RequestChecks.Step(body.Root, "metadata")]);
        return m;
    }

    /// <summary>An ISO 8601 instant; one without an offset is a local time in <paramref name="timeZone"/> (behavior.md §1.1).</summary>
    public static DateTimeOffset? ParseInstant(string s, string? timeZone)
    {
        if (OffsetSuffix().IsMatch(s))
            return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t.ToUniversalTime() : null;
        if (!DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local)) return null;
        var zone = RequestChecks.Zone(timeZone);
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return new DateTimeOffset(unspecified, zone.GetUtcOffset(unspecified)).ToUniversalTime();
    }

    [GeneratedRegex(@"(Z|z|[+-]\d{2}(:?\d{2})?)$")]
    private static partial Regex OffsetSuffix();

    private static Announcement Copy(Announcement a) =>
        JsonSerializer.Deserialize<Announcement>(JsonSerializer.Serialize(a, Infrastructure.Json.StoreOptions), Infrastructure.Json.StoreOptions)!;

    // ------------------------------------------------------------------ writes

    public Announcement Create(Organization org, BodyReader body, string actor)
    {
        var a = Read(body, null, org);
        return store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            a.Id = ids.NewUuid("announcement");
            a.OrganizationId = org.Id;
            a.CreatedAt = now; a.CreatedBy = actor;
            store.Put(a);
            Plan(a);
            return a;
        });
    }

    public Announcement Update(Organization org, string id, BodyReader body, string actor)
    {
        var current = Require(org.Id, id);
        var draft = Read(body, current, org);
        return store.Transaction(() =>
        {
            draft.UpdatedAt = clocks.For(org.Id).GetUtcNow();
            draft.UpdatedBy = actor;
            store.Put(draft);
            if (draft.Delivery != AnnouncementDelivery.Sent) Plan(draft);
            return draft;
        });
    }

    /// <summary>DELETE: archives it and cancels a delivery that has not happened yet.</summary>
    public Announcement Delete(Organization org, string id, string actor)
    {
        var a = Require(org.Id, id);
        return store.Transaction(() =>
        {
            a.Archived = true;
            a.UpdatedAt = clocks.For(org.Id).GetUtcNow();
            a.UpdatedBy = actor;
            scheduler.Cancel(JobId(a.Id));
            if (a.Delivery != AnnouncementDelivery.Sent) a.Delivery = AnnouncementDelivery.Cancelled;
            store.Put(a);
            return a;
        });
    }

    // ------------------------------------------------------------------ timing and delivery

    private static string JobId(string announcementId) => "announcement:" + announcementId;

    /// <summary>The instant the announcement falls due, or null while its anchor has none.</summary>
    public DateTimeOffset? DueAt(Announcement a)
    {
        if (a.TimingStrategy == "POINT_IN_TIME") return a.ScheduledAt;
        DateTimeOffset? anchor = null;
        if (a.AnchorEntity == "EXPERIENCE")
        {
            if (Experiences.Find(a.OrganizationId, a.ExperienceId) is not { } e) return null;
            var (open, close) = Experiences.Timing(e);
            anchor = a.AnchorMoment == "OPEN" ? open : close;
        }
        else if (a.AnchorEntity == "DISTRIBUTION" && a.DistributionId is not null && registry.Find(a.OrganizationId, a.DistributionId) is { } found)
        {
            var d = found.Distribution;
            anchor = a.AnchorMoment switch
            {
                "OPEN" => d.OpenAt,
                "CLOSE" => d.CloseAt,
                _ => SettleAt(found.Engine, d),
            };
        }
        return anchor?.AddSeconds(a.OffsetSeconds ?? 0);
    }

    private static DateTimeOffset? SettleAt(IDistributionEngine engine, DistributionBase d)
    {
        var json = engine.ToJson(d);
        return ExperienceService.ParseIso(json["settleAt"]) ?? ExperienceService.ParseIso(json["drawAt"]) ?? d.CloseAt;
    }

    /// <summary>(Re)schedules the delivery job, or sends at once when already due.</summary>
    private void Plan(Announcement a)
    {
        scheduler.Cancel(JobId(a.Id));
        var due = DueAt(a);
        a.DueAt = due;
        if (due is null)
        {
            a.Delivery = AnnouncementDelivery.Unscheduled;
            store.Put(a);
            return;
        }
        if (due <= clocks.For(a.OrganizationId).GetUtcNow())
        {
            Deliver(a);
            return;
        }
        a.Delivery = AnnouncementDelivery.Scheduled;
        store.Put(a);
        scheduler.Schedule(JobId(a.Id), JobKind, due.Value, new JsonObject { ["announcementId"] = a.Id }, a.OrganizationId);
    }

    /// <summary>Plans again every pending RELATIVE announcement of an organization (a distribution's timing changed).</summary>
    public void Replan(string organizationId)
    {
        store.Transaction(() =>
        {
            foreach (var a in store.Where<Announcement>(a => a.OrganizationId == organizationId && !a.Archived && a.TimingStrategy == "RELATIVE"
                         && a.Delivery is AnnouncementDelivery.Scheduled or AnnouncementDelivery.Unscheduled))
                Plan(a);
        });
    }

    /// <summary>The job: checks the announcement is still live and due (its anchor may have moved), then delivers.</summary>
    public void RunJob(string announcementId)
    {
        store.Transaction(() =>
        {
            var a = store.Get<Announcement>(announcementId);
            if (a is null || a.Archived || a.Delivery == AnnouncementDelivery.Sent) return;
            var due = DueAt(a);
            if (due is null || due > clocks.For(a.OrganizationId).GetUtcNow()) { Plan(a); return; }
            Deliver(a);
        });
    }

    /// <summary>Sends it now, whatever its timing (control plane <c>POST /_emulator/announcements/{id}/send</c> too).</summary>
    public Announcement SendNow(string announcementId)
    {
        return store.Transaction(() =>
        {
            var a = store.Get<Announcement>(announcementId) ?? throw ApiErrors.NotFoundError(NotFound);
            if (a.Archived) throw ApiErrors.Conflict("Announcement is archived");
            if (a.Delivery == AnnouncementDelivery.Sent) throw ApiErrors.Conflict("Announcement already sent");
            scheduler.Cancel(JobId(a.Id));
            Deliver(a);
            return a;
        });
    }

    private void Deliver(Announcement a)
    {
        var org = orgs.ById(a.OrganizationId);
        if (org is null) return;
        var now = clocks.For(a.OrganizationId).GetUtcNow();
        var experience = Experiences.Find(a.OrganizationId, a.ExperienceId);
        a.Recipients = [];
        foreach (var (consumerId, source) in Recipients(a))
        {
            var consumer = store.Get<Consumer>(consumerId);
            var r = new AnnouncementRecipient { ConsumerId = consumerId, Source = source };
            a.Recipients.Add(r);
            if (!AnnouncementTypes.IsDelivered(a.Type)) { r.Status = "recorded"; continue; }
            var vars = Variables(a, org, experience, consumer);
            if (a.Type == "EMAIL")
            {
                if (string.IsNullOrWhiteSpace(consumer?.Email)) { r.Status = "skipped"; r.Reason = "no_email"; continue; }
                var subject = Render(CreativeDocuments.Template(a.CreativeDocument, "subjectTemplate") ?? a.Title, vars);
                var text = Render(a.Content, vars) + (a.Link is null ? "" : "\n\n" + a.Link);
                var m = messages.SendEmail(org.Id, consumer.Email!, From(a, org), subject, text, Html(a, subject, Render(a.Content, vars)), null);
                r.To = consumer.Email; r.MessageId = m.Id;
                Beacon(a, org, consumer, m.Id, "email", now);
            }
            else
            {
                if (string.IsNullOrWhiteSpace(consumer?.Phone)) { r.Status = "skipped"; r.Reason = "no_phone"; continue; }
                var template = CreativeDocuments.Template(a.CreativeDocument, "textTemplate") ?? a.ShortContent ?? a.Content;
                var text = Render(template, vars) + (a.Link is null ? "" : " " + a.Link);
                var m = messages.SendSms(org.Id, consumer.Phone!, org.Name, text, null);
                r.To = consumer.Phone; r.MessageId = m.Id;
                Beacon(a, org, consumer, m.Id, "sms", now);
            }
        }
        a.Delivery = AnnouncementDelivery.Sent;
        a.SentAt = now;
        a.DueAt ??= now;
        store.Put(a);
        log.LogInformation("Announcement {Id} ({Type}) sent to {Count} recipient(s)", a.Id, a.Type, a.Recipients.Count(r => r.Status != "skipped"));
    }

    /// <summary>Waitlist and audience consumers of the sequences the announcement covers, each once (waitlist first).</summary>
    public List<(string ConsumerId, string Source)> Recipients(Announcement a)
    {
        var sequences = a.SequenceId is not null
            ? store.Where<Sequence>(s => s.Id == a.SequenceId && s.OrganizationId == a.OrganizationId)
            : Sequences.List(a.OrganizationId, a.ExperienceId);
        var seqIds = sequences.Select(s => s.Id).ToHashSet();
        var result = new List<(string, string)>();
        var seen = new HashSet<string>();
        if (a.IncludeWaitlist)
            foreach (var e in store.Where<WaitlistEntry>(e => e.OrganizationId == a.OrganizationId && seqIds.Contains(e.SequenceId) && WaitlistStatus.IsActive(e.Status)))
                if (seen.Add(e.ConsumerId)) result.Add((e.ConsumerId, "waitlist"));
        if (a.IncludeAudience)
            foreach (var audienceId in sequences.Select(s => s.AudienceId).OfType<string>().Distinct())
                foreach (var c in audiences.ConsumerIds(a.OrganizationId, audienceId))
                    if (seen.Add(c)) result.Add((c, "audience"));
        return result;
    }

    private static string From(Announcement a, Organization org)
    {
        if (a.Metadata?["email"] is JsonObject e && e["fromEmail"]?.GetValue<string>() is { } fromEmail)
            return e["fromName"]?.GetValue<string>() is { } name ? $"{name} <{fromEmail}>" : fromEmail;
        return $"{org.Name} <announcements@{org.Slug}.fanfare.local>";
    }

    private static Dictionary<string, string> Variables(Announcement a, Organization org, Experience? e, Consumer? c)
    {
        var v = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["title"] = a.Title, ["link"] = a.Link ?? "", ["organization.name"] = org.Name, ["organizationName"] = org.Name,
            ["experience.name"] = e?.Name ?? "", ["experienceName"] = e?.Name ?? "",
            ["consumer.email"] = c?.Email ?? "", ["consumer.phone"] = c?.Phone ?? "", ["consumer.fullName"] = c?.FullName ?? "",
            ["fullName"] = c?.FullName ?? "", ["firstName"] = (c?.FullName ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "",
        };
        foreach (var (k, node) in a.TemplateData ?? [])
            v[k] = node is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>() : node?.ToJsonString() ?? "";
        return v;
    }

    /// <summary>Replaces <c>{{name}}</c> placeholders (unknown ones are left as written).</summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> vars) =>
        Placeholder().Replace(template, m => vars.TryGetValue(m.Groups[1].Value.Trim(), out var v) ? v : m.Value);

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")]
    private static partial Regex Placeholder();

    private static string Html(Announcement a, string subject, string content)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><body style=\"font-family:sans-serif\">");
        sb.Append("<h1>").Append(WebUtility.HtmlEncode(subject)).Append("</h1>");
        if (a.ImageUrl is not null) sb.Append("<p><img alt=\"\" src=\"").Append(WebUtility.HtmlEncode(a.ImageUrl)).Append("\" style=\"max-width:100%\"></p>");
        foreach (var para in content.Split("\n\n")) sb.Append("<p>").Append(WebUtility.HtmlEncode(para).Replace("\n", "<br>")).Append("</p>");
        if (a.Link is not null) sb.Append("<p><a href=\"").Append(WebUtility.HtmlEncode(a.Link)).Append("\">").Append(WebUtility.HtmlEncode(a.Link)).Append("</a></p>");
        sb.Append("</body></html>");
        return sb.ToString();
    }

    /// <summary>A <c>messageSent</c> beacon event per delivered message (behavior.md §10.2), so analytics counts it.</summary>
    private void Beacon(Announcement a, Organization org, Consumer c, string messageId, string channel, DateTimeOffset now)
    {
        var evt = new BeaconEvent
        {
            Id = ids.NewUuid("beacon-event"), OrganizationId = org.Id, EventName = "messageSent", ConsumerId = c.Id,
            ExperienceId = a.ExperienceId, DistributionId = a.DistributionId, ReceivedAt = now,
            Body = new JsonObject
            {
                ["organizationId"] = org.Id, ["eventId"] = messageId, ["eventName"] = "messageSent",
                ["eventTimestamp"] = Infrastructure.Json.Iso(now), ["consumerId"] = c.Id, ["experienceId"] = a.ExperienceId,
                ["eventProperties"] = new JsonObject
                {
                    ["channel"] = channel, ["consumerId"] = c.Id, ["messageId"] = messageId, ["priority"] = "normal",
                    ["template"] = a.CreativeTemplateKey ?? "announcement", ["announcementId"] = a.Id,
                },
            },
        };
        store.Put(evt);
        foreach (var s in beaconSubscribers) s.OnBeaconEvent(evt);
    }
}

/// <summary>Re-plans RELATIVE announcements when a distribution is updated, opens or closes (its anchor may have moved).</summary>
public sealed class AnnouncementReplanner(IServiceProvider services) : Infrastructure.Events.IEventSubscriber
{
    public void OnEvent(Infrastructure.Events.OutboxEvent evt)
    {
        if (evt.Type is "distribution.updated" or "distribution.opened" or "distribution.closed")
            services.GetRequiredService<AnnouncementEngine>().Replan(evt.OrganizationId);
    }
}

/// <summary>Runs <see cref="AnnouncementEngine.RunJob"/> when an announcement's job falls due.</summary>
public sealed class AnnouncementJob(IServiceProvider services) : IJobHandler
{
    public string Kind => AnnouncementEngine.JobKind;

    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        if (job.Payload?["announcementId"]?.GetValue<string>() is { } id) services.GetRequiredService<AnnouncementEngine>().RunJob(id);
        return Task.CompletedTask;
    }
}
