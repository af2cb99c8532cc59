using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions;

/// <summary>Told when a distribution opens or closes on the clock (e.g. a waitlist notifies, a draw stops entries).</summary>
public interface IDistributionLifecycleListener
{
    void OnOpened(DistributionBase distribution) { }
    void OnClosed(DistributionBase distribution) { }
}

/// <summary>
/// Schedules and emits the lifecycle events of behavior.md §7.4: <c>distribution.opened</c> at <c>openAt</c>,
/// <c>distribution.closed</c> at <c>closeAt</c> (with <c>totalParticipants</c>), and <c>distribution.updated</c> with the
/// changed fields. Engines call <see cref="Track"/> after creating or updating a distribution and <see cref="Updated"/>
/// after an admin update; <see cref="Untrack"/> on delete.
/// </summary>
public sealed class DistributionLifecycle(DocumentStore store, Scheduler scheduler, EventOutbox outbox, ClockResolver clocks,
    IServiceProvider services)
{
    public const string OpenJob = "distribution.open", CloseJob = "distribution.close";

    public void Track(DistributionBase d)
    {
        var now = clocks.For(d.OrganizationId).GetUtcNow();
        var payload = new JsonObject { ["distributionId"] = d.Id };
        if (d.OpenAt is { } open && open > now) scheduler.Schedule($"{OpenJob}:{d.Id}", OpenJob, open, payload, d.OrganizationId);
        else scheduler.Cancel($"{OpenJob}:{d.Id}");
        if (d.LifecycleCloseAt is { } close && close > now) scheduler.Schedule($"{CloseJob}:{d.Id}", CloseJob, close, (JsonObject)payload.DeepClone(), d.OrganizationId);
        else scheduler.Cancel($"{CloseJob}:{d.Id}");
    }

    public void Untrack(DistributionBase d)
    {
        scheduler.Cancel($"{OpenJob}:{d.Id}");
        scheduler.Cancel($"{CloseJob}:{d.Id}");
    }

    /// <summary>Records <c>distribution.updated</c> and reschedules open/close.</summary>
    public void Updated(DistributionBase d, IEnumerable<string> changedFields)
    {
        var fields = changedFields.ToList();
        Track(d);
        if (fields.Count == 0) return;
        outbox.Record(d.OrganizationId, "distribution.updated", new JsonObject
        {
            ["distributionId"] = d.Id, ["distributionType"] = d.DistributionType, ["sequenceId"] = d.SequenceId,
            ["experienceId"] = d.ExperienceId, ["updatedAt"] = Json.Iso(clocks.For(d.OrganizationId).GetUtcNow()),
            ["changedFields"] = new JsonArray(fields.Select(f => (JsonNode)f).ToArray()),
        });
    }

    internal void Fire(string kind, string distributionId, string organizationId)
    {
        var registry = services.GetRequiredService<DistributionRegistry>();
        store.Transaction(() =>
        {
            if (registry.Find(organizationId, distributionId) is not { } hit) return;
            var d = hit.Distribution;
            var now = clocks.For(organizationId).GetUtcNow();
            var data = new JsonObject
            {
                ["distributionId"] = d.Id, ["distributionType"] = d.DistributionType, ["sequenceId"] = d.SequenceId, ["experienceId"] = d.ExperienceId,
            };
            var listeners = services.GetServices<IDistributionLifecycleListener>();
            if (kind == OpenJob)
            {
                data["openedAt"] = Json.Iso(now);
                outbox.Record(organizationId, "distribution.opened", data);
                foreach (var l in listeners) l.OnOpened(d);
            }
            else
            {
                data["closedAt"] = Json.Iso(now);
                data["totalParticipants"] = hit.Engine.Participants(d).Count;
                outbox.Record(organizationId, "distribution.closed", data);
                foreach (var l in listeners) l.OnClosed(d);
            }
        });
    }
}

/// <summary>Scheduled jobs <c>distribution.open</c> / <c>distribution.close</c>. Synchronous: the scheduler runs
/// consecutive due jobs of these kinds in one store transaction.</summary>
public sealed class DistributionLifecycleJobs
{
    public sealed class Open(IServiceProvider sp) : ISyncJobHandler
    {
        public string Kind => DistributionLifecycle.OpenJob;
        public void Run(ScheduledJob job) =>
            sp.GetRequiredService<DistributionLifecycle>().Fire(Kind, job.Payload?["distributionId"]?.GetValue<string>() ?? "", job.OrganizationId ?? "");
        public void AfterRollback() => DropEngineCaches(sp);
    }

    public sealed class Close(IServiceProvider sp) : ISyncJobHandler
    {
        public string Kind => DistributionLifecycle.CloseJob;
        public void Run(ScheduledJob job) =>
            sp.GetRequiredService<DistributionLifecycle>().Fire(Kind, job.Payload?["distributionId"]?.GetValue<string>() ?? "", job.OrganizationId ?? "");
        public void AfterRollback() => DropEngineCaches(sp);
    }

    /// <summary>Opening or closing reaches every engine that listens (a queue denies its line, grants are revoked …):
    /// after a rolled-back batch their in-memory indexes are rebuilt from the store.</summary>
    private static void DropEngineCaches(IServiceProvider sp)
    {
        sp.GetService<Queues.QueueEngine>()?.ResetIndex();
        sp.GetService<Grants.AdmissionGrants>()?.ResetIndex();
        sp.GetService<Auctions.AuctionEngine>()?.ResetCaches();
        sp.GetService<Draws.DrawEngine>()?.ResetCaches();
    }
}

/// <summary>Registers the lifecycle service and its jobs.</summary>
public sealed class DistributionLifecycleModule : IFeatureModule
{
    public int Order => 20;
    public void AddServices(IServiceCollection services, EmulatorOptions options)
    {
        services.AddSingleton<DistributionLifecycle>();
        services.AddSingleton<IJobHandler, DistributionLifecycleJobs.Open>();
        services.AddSingleton<IJobHandler, DistributionLifecycleJobs.Close>();
    }
}
