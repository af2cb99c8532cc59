using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Audiences;

/// <summary>
/// Imports and syncs (admin-part1.md): the emulator cannot reach Klaviyo, Mailchimp or SendGrid, so their lists live on
/// the control plane (<see cref="AudienceSourceList"/>). Importing a list creates a <c>SYNCED_LIST</c> audience with its
/// <c>SyncSource</c> and an <c>AudienceImport</c> in <c>PENDING</c>; on the emulator clock the import moves to
/// <c>PROCESSING</c> after <see cref="StartDelaySeconds"/> and to <c>COMPLETED</c> <see cref="FinishDelaySeconds"/> later, when
/// members appear: each list member is matched to a consumer by email (case-insensitive), then phone, or created
/// (<c>createdBy</c> = the provider). A list already synced into a live audience is <c>skipped</c> (<c>already_synced</c>,
/// with <c>existingAudienceId</c>); an unknown list id is <c>skipped</c> (<c>list_not_found</c>). <c>POST /audiences/{id}/sync</c>
/// re-reads the list (members replaced; a deleted list → <c>FAILED</c>). CSV imports (<c>POST /audiences/{id}/import</c>)
/// answer an <c>uploadUrl</c> on the control plane; the uploaded CSV (<c>email,phone,fullName</c>) runs the same way.
/// </summary>
public sealed class AudienceImports(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler, ConsumerDirectory consumers,
    AudienceEngine audiences)
{
    public const string JobKind = "audience.import";
    public const int StartDelaySeconds = 1, FinishDelaySeconds = 2;

    private DateTimeOffset Now(string org) => clocks.For(org).GetUtcNow();

    public AudienceSourceList PutList(string organizationId, string provider, string listId, string? name, List<AudienceSourceMember> members)
    {
        return store.Transaction(() =>
        {
            var key = AudienceSourceList.Key(organizationId, provider, listId);
            var list = store.Get<AudienceSourceList>(key) ?? new AudienceSourceList { Id = key, OrganizationId = organizationId, Provider = provider, ListId = listId };
            list.Name = name ?? (list.Name.Length > 0 ? list.Name : $"{provider} list {listId}");
            list.Members = members;
            list.UpdatedAt = Now(organizationId);
            store.Put(list);
            return list;
        });
    }

    public List<AudienceSourceList> Lists(string organizationId, string provider) =>
        store.Where<AudienceSourceList>(l => l.OrganizationId == organizationId && l.Provider == provider);

    public bool DeleteList(string organizationId, string provider, string listId) =>
        store.Transaction(() => store.Delete<AudienceSourceList>(AudienceSourceList.Key(organizationId, provider, listId)));

    /// <summary><c>POST /audiences/import/{provider}</c>.</summary>
    public ListImportResult ImportLists(string organizationId, string provider, List<string> listIds, string actor)
    {
        return store.Transaction(() =>
        {
            var imported = new List<ImportedList>();
            var skipped = new List<SkippedList>();
            foreach (var listId in listIds.Distinct())
            {
                var live = audiences.List(organizationId).FirstOrDefault(a => a.SyncSourceId is { } sid && store.Get<ConsumerSyncSource>(sid) is { } s
                    && s.SyncSource == provider && s.SyncSourceId == listId);
                if (live is not null) { skipped.Add(new SkippedList(listId, "already_synced", live.Id)); continue; }
                var list = store.Get<AudienceSourceList>(AudienceSourceList.Key(organizationId, provider, listId));
                if (list is null) { skipped.Add(new SkippedList(listId, "list_not_found", null)); continue; }
                var now = Now(organizationId);
                var source = new ConsumerSyncSource
                {
                    Id = ids.NewUuid("sync-source"), OrganizationId = organizationId, CreatedAt = now, CreatedBy = actor, SyncSource = provider,
                    SyncSourceId = listId, SyncStatus = "PENDING", SourceData = new JsonObject { ["listName"] = list.Name },
                };
                store.Put(source);
                var audience = new Audience
                {
                    Id = ids.NewUuid("audience"), OrganizationId = organizationId, CreatedAt = now, CreatedBy = actor, Name = list.Name,
                    Type = AudienceTypes.SyncedList, SyncSourceId = source.Id, Description = $"Synced from {provider} list {listId}",
                };
                store.Put(audience);
                StartImport(audience, provider, listId, actor);
                imported.Add(new ImportedList(listId, source.Id, "PENDING"));
            }
            return new ListImportResult(imported, skipped);
        });
    }

    /// <summary><c>POST /audiences/{id}/sync</c>.</summary>
    public ConsumerSyncSource Sync(string organizationId, string audienceId, string actor)
    {
        return store.Transaction(() =>
        {
            var a = audiences.Require(organizationId, audienceId);
            if (a.Type != AudienceTypes.SyncedList || a.SyncSourceId is null || store.Get<ConsumerSyncSource>(a.SyncSourceId) is not { } source)
                throw ApiErrors.BadRequest("Audience is not a synced list");
            source.SyncStatus = "PENDING"; source.UpdatedAt = Now(organizationId); source.UpdatedBy = actor;
            store.Put(source);
            StartImport(a, source.SyncSource, source.SyncSourceId, actor);
            return source;
        });
    }

    /// <summary><c>POST /audiences/{id}/import</c>: a CSV import waiting for its upload.</summary>
    public AudienceImportDoc CreateCsvImport(string organizationId, string audienceId, string actor)
    {
        return store.Transaction(() =>
        {
            var a = audiences.Require(organizationId, audienceId);
            if (a.Type == AudienceTypes.Dynamic) throw ApiErrors.BadRequest("Imports are only possible into STATIC_LIST or SYNCED_LIST audiences");
            var id = ids.NewUuid("audience-import");
            var imp = new AudienceImportDoc
            {
                Id = id, OrganizationId = organizationId, AudienceId = a.Id, CreatedAt = Now(organizationId), CreatedBy = actor,
                S3Key = $"audience-imports/{organizationId}/{a.Id}/{id}.csv", Source = "csv",
            };
            store.Put(imp);
            return imp;
        });
    }

    /// <summary>The control-plane upload target of a CSV import: stores the file and schedules processing.</summary>
    public AudienceImportDoc Upload(string importId, string csv)
    {
        return store.Transaction(() =>
        {
            var imp = store.Get<AudienceImportDoc>(importId) ?? throw ApiErrors.NotFoundError("Audience import not found");
            if (imp.Source != "csv" || imp.Status != "PENDING" || imp.Csv is not null) throw ApiErrors.Conflict("Import already uploaded");
            imp.Csv = csv; imp.UpdatedAt = Now(imp.OrganizationId);
            store.Put(imp);
            scheduler.Schedule("audience-import:" + imp.Id, JobKind, Now(imp.OrganizationId).AddSeconds(StartDelaySeconds), new JsonObject { ["importId"] = imp.Id, ["phase"] = "start" }, imp.OrganizationId);
            return imp;
        });
    }

    public AudienceImportDoc? Latest(string organizationId, string audienceId) =>
        store.Where<AudienceImportDoc>(i => i.OrganizationId == organizationId && i.AudienceId == audienceId).LastOrDefault();

    private void StartImport(Audience a, string provider, string listId, string actor)
    {
        var id = ids.NewUuid("audience-import");
        var imp = new AudienceImportDoc
        {
            Id = id, OrganizationId = a.OrganizationId, AudienceId = a.Id, CreatedAt = Now(a.OrganizationId), CreatedBy = actor,
            S3Key = $"audience-imports/{a.OrganizationId}/{a.Id}/{id}-{provider}-{listId}.json", Source = provider, ListId = listId,
        };
        store.Put(imp);
        scheduler.Schedule("audience-import:" + id, JobKind, Now(a.OrganizationId).AddSeconds(StartDelaySeconds), new JsonObject { ["importId"] = id, ["phase"] = "start" }, a.OrganizationId);
    }

    /// <summary>Job: <c>start</c> → PROCESSING (and the total known); <c>finish</c> → members matched/created, COMPLETED (or FAILED).</summary>
    public void Run(string importId, string phase)
    {
        store.Transaction(() =>
        {
            var imp = store.Get<AudienceImportDoc>(importId);
            if (imp is null || imp.Status is "COMPLETED" or "FAILED") return;
            var now = Now(imp.OrganizationId);
            var audience = store.Get<Audience>(imp.AudienceId);
            var rows = Rows(imp, out var missing);
            if (audience is null || audience.Archived || missing)
            {
                Fail(imp, audience, missing ? "The source list no longer exists" : "The audience was deleted", now);
                return;
            }
            if (phase == "start")
            {
                imp.Status = "PROCESSING"; imp.TotalConsumers = rows.Count; imp.UpdatedAt = now;
                store.Put(imp);
                scheduler.Schedule("audience-import:" + imp.Id, JobKind, now.AddSeconds(FinishDelaySeconds), new JsonObject { ["importId"] = imp.Id, ["phase"] = "finish" }, imp.OrganizationId);
                return;
            }
            var source = audience.SyncSourceId is null ? null : store.Get<ConsumerSyncSource>(audience.SyncSourceId);
            var members = new List<string>();
            var errors = new JsonArray();
            for (int i = 0; i < rows.Count; i++)
            {
                var (m, problem) = rows[i];
                if (problem is not null) { errors.Add(new JsonObject { ["row"] = i + 1, ["issues"] = new JsonArray(problem) }); continue; }
                var c = Match(imp.OrganizationId, m!, imp.Source, source, now);
                if (!members.Contains(c.Id)) members.Add(c.Id);
            }
            if (imp.Source == "csv" && audience.Type == AudienceTypes.StaticList)
                foreach (var id in members.Where(id => !audience.MemberIds.Contains(id))) audience.MemberIds.Add(id);
            else audience.MemberIds = members;
            audience.Version++; audience.LastRefreshedAt = now;
            store.Put(audience);
            if (source is not null && imp.Source != "csv")
            {
                source.SyncStatus = "SUCCESS"; source.LastSyncedAt = now; source.UpdatedAt = now;
                store.Put(source);
            }
            imp.Status = "COMPLETED"; imp.Progress = 100; imp.ProcessedConsumers = rows.Count - errors.Count; imp.ErrorCount = errors.Count;
            imp.Errors = errors.Count > 0 ? errors : null; imp.UpdatedAt = now;
            store.Put(imp);
        });
    }

    private void Fail(AudienceImportDoc imp, Audience? audience, string message, DateTimeOffset now)
    {
        imp.Status = "FAILED"; imp.ErrorCount = 1; imp.Errors = [new JsonObject { ["row"] = 0, ["issues"] = new JsonArray(message) }]; imp.UpdatedAt = now;
        store.Put(imp);
        if (audience?.SyncSourceId is { } sid && store.Get<ConsumerSyncSource>(sid) is { } s && imp.Source != "csv")
        {
            s.SyncStatus = "FAILED"; s.UpdatedAt = now;
            store.Put(s);
        }
    }

    private List<(AudienceSourceMember? Member, string? Problem)> Rows(AudienceImportDoc imp, out bool missing)
    {
        missing = false;
        if (imp.Source == "csv") return ParseCsv(imp.Csv ?? "");
        var list = store.Get<AudienceSourceList>(AudienceSourceList.Key(imp.OrganizationId, imp.Source, imp.ListId ?? ""));
        if (list is null) { missing = true; return []; }
        return list.Members.Select(m => (Member: (AudienceSourceMember?)m, Problem: m.Email is null && m.Phone is null ? "email or phone is required" : null)).ToList();
    }

    /// <summary>CSV with an optional header (<c>email,phone,fullName</c> in any order; without a header: email, phone, name).</summary>
    public static List<(AudienceSourceMember? Member, string? Problem)> ParseCsv(string csv)
    {
        var lines = csv.Replace("\r\n", "\n").Split('\n').Where(l => l.Trim().Length > 0).ToList();
        var result = new List<(AudienceSourceMember?, string?)>();
        if (lines.Count == 0) return result;
        var header = lines[0].Split(',').Select(h => h.Trim().Trim('"').ToLowerInvariant()).ToList();
        int ei = 0, pi = 1, ni = 2;
        if (header.Contains("email") || header.Contains("phone"))
        {
            ei = header.IndexOf("email"); pi = header.IndexOf("phone");
            ni = header.FindIndex(h => h is "fullname" or "name" or "full_name");
            lines.RemoveAt(0);
        }
        foreach (var line in lines)
        {
            var cells = line.Split(',').Select(c => c.Trim().Trim('"')).ToList();
            string? Cell(int i) => i >= 0 && i < cells.Count && cells[i].Length > 0 ? cells[i] : null;
            var email = Cell(ei); var phone = Cell(pi);
            if (email is not null && !email.Contains('@')) { result.Add((null, $"Invalid email: {email}")); continue; }
            if (email is null && phone is null) { result.Add((null, "email or phone is required")); continue; }
            result.Add((new AudienceSourceMember { Email = email, Phone = phone, Name = Cell(ni) }, null));
        }
        return result;
    }

    private Consumer Match(string organizationId, AudienceSourceMember m, string source, ConsumerSyncSource? syncSource, DateTimeOffset now)
    {
        var email = m.Email?.Trim().ToLowerInvariant();
        var phone = m.Phone is null ? null : Fanfare.Emulator.Auth.PhoneNumbers.Normalize(m.Phone, null) ?? m.Phone;
        var c = (email is null ? null : consumers.ByEmail(organizationId, email)) ?? (phone is null ? null : consumers.ByPhone(organizationId, phone));
        if (c is null)
        {
            c = consumers.Create(organizationId, source, email, phone, m.Name);
            if (source != "csv") c.SourceVendor = source;
        }
        if (syncSource is not null && source != "csv" && c.SyncSourceId is null) { c.SyncSourceId = syncSource.Id; c.SourceVendor ??= source; }
        if (c.SyncSourceId == syncSource?.Id && syncSource is not null) { c.ExternalId = m.ExternalId ?? email ?? phone; c.LastSyncedAt = now; }
        store.Put(c);
        return c;
    }
}

/// <summary>Runs <see cref="AudienceImports"/> jobs (resolves it lazily: the scheduler depends on every job handler).</summary>
public sealed class AudienceImportJobs(IServiceProvider services) : IJobHandler
{
    public string Kind => AudienceImports.JobKind;

    public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        if (job.Payload?["importId"]?.GetValue<string>() is { } id)
            services.GetRequiredService<AudienceImports>().Run(id, job.Payload["phase"]?.GetValue<string>() ?? "finish");
        return Task.CompletedTask;
    }
}
