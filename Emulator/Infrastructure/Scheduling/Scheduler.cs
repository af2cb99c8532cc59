using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Infrastructure.Scheduling;

/// <summary>A unit of work due at <see cref="At"/> (UTC), run by the <see cref="IJobHandler"/> whose kind matches.</summary>
[SharedAcrossModes]
public sealed class ScheduledJob : IDocument
{
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string? OrganizationId { get; set; }
    public DateTimeOffset At { get; set; }
    public long Seq { get; set; }
    public JsonObject? Payload { get; set; }
    /// <summary>The data mode (<c>test</c>/<c>live</c>) the job was scheduled in; it runs in the same one.</summary>
    public string Mode { get; set; } = StoreModes.Test;
}

/// <summary>Runs jobs of one kind. Handlers know nothing of HTTP; they take the store lock themselves.</summary>
public interface IJobHandler
{
    string Kind { get; }
    Task RunAsync(ScheduledJob job, CancellationToken cancellationToken);
}

/// <summary>
/// Time-ordered work on the emulator clock. Jobs are documents (they survive a restart). Moving the clock with
/// <see cref="AdvanceToAsync"/> steps the clock to each due job's instant and runs it, in (time, creation) order, so
/// everything that fell due has happened, deterministically, before the move returns; a background pump runs what falls
/// due as real time passes.
/// </summary>
public sealed class Scheduler(DocumentStore store, EmulatorClock clock, IEnumerable<IJobHandler> handlers, ILogger<Scheduler> log)
{
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind);
    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly object _indexSync = new();
    private SortedSet<(DateTimeOffset At, long Seq, string Id)> _index = [];
    private long _seq;

    /// <summary>Rebuilds the in-memory index from the store (start-up, reset).</summary>
    public void Rebuild()
    {
        lock (_indexSync)
        {
            var jobs = store.All<ScheduledJob>();
            _index = new SortedSet<(DateTimeOffset, long, string)>(jobs.Select(j => (j.At, j.Seq, j.Id)));
            _seq = jobs.Count == 0 ? 0 : jobs.Max(j => j.Seq);
        }
    }

    /// <summary>Schedules (or, with the same <paramref name="id"/>, reschedules) a job.</summary>
    public ScheduledJob Schedule(string id, string kind, DateTimeOffset at, JsonObject? payload = null, string? organizationId = null)
    {
        return store.Transaction(() =>
        {
            Cancel(id);
            ScheduledJob job;
            lock (_indexSync)
            {
                job = new ScheduledJob { Id = id, Kind = kind, At = at.ToUniversalTime(), Seq = ++_seq, Payload = payload, OrganizationId = organizationId, Mode = DocumentStore.Mode };
                _index.Add((job.At, job.Seq, job.Id));
            }
            store.Put(job);
            return job;
        });
    }

    public bool Cancel(string id)
    {
        return store.Transaction(() =>
        {
            var existing = store.Get<ScheduledJob>(id);
            if (existing is null) return false;
            lock (_indexSync) _index.Remove((existing.At, existing.Seq, existing.Id));
            store.Delete<ScheduledJob>(id);
            return true;
        });
    }

    /// <summary>When the next job is due, if any.</summary>
    public DateTimeOffset? NextDue
    {
        get { lock (_indexSync) return _index.Count == 0 ? null : _index.Min.At; }
    }

    public int Pending { get { lock (_indexSync) return _index.Count; } }

    private ScheduledJob? TakeDue(DateTimeOffset upTo)
    {
        return store.Transaction(() =>
        {
            (DateTimeOffset At, long Seq, string Id) first;
            lock (_indexSync)
            {
                if (_index.Count == 0 || _index.Min.At > upTo) return null;
                first = _index.Min;
                _index.Remove(first);
            }
            var job = store.Get<ScheduledJob>(first.Id);
            if (job is not null) store.Delete<ScheduledJob>(job.Id);
            return job;
        });
    }

    /// <summary>Runs every job due at or before the clock's current time (background pump).</summary>
    public Task RunDueAsync(CancellationToken ct = default) => StepAsync(clock.GetUtcNow(), moveClock: false, ct);

    /// <summary>Moves the clock forward to <paramref name="target"/>, running due jobs at their own instants on the way.</summary>
    public Task AdvanceToAsync(DateTimeOffset target, CancellationToken ct = default) => StepAsync(target, moveClock: true, ct);

    private async Task StepAsync(DateTimeOffset target, bool moveClock, CancellationToken ct)
    {
        await _running.WaitAsync(ct);
        try
        {
            while (TakeDue(target) is { } job)
            {
                if (moveClock && job.At > clock.GetUtcNow()) clock.MoveTo(job.At);
                if (!_handlers.TryGetValue(job.Kind, out var handler))
                {
                    log.LogWarning("No handler for scheduled job kind {Kind}; dropped {Id}", job.Kind, job.Id);
                    continue;
                }
                try { using (DocumentStore.UseMode(job.Mode)) await handler.RunAsync(job, ct); }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogError(ex, "Scheduled job {Id} ({Kind}) failed", job.Id, job.Kind);
                }
            }
            if (moveClock && target > clock.GetUtcNow()) clock.MoveTo(target);
        }
        finally { _running.Release(); }
    }
}

/// <summary>Runs work that falls due as real time passes. While the clock is frozen it still runs whatever is due at or
/// before the frozen instant (a first webhook attempt, an admission due now): frozen stops time, not work.</summary>
public sealed class SchedulerPump(Scheduler scheduler, EmulatorClock clock, Hosting.EmulatorOptions options, Hosting.EmulatorState state) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(Math.Max(20, options.SchedulerIntervalMs), stoppingToken); }
            catch (OperationCanceledException) { return; }
            if (!state.Ready) continue;
            if (scheduler.NextDue is { } due && due <= clock.GetUtcNow())
                await scheduler.RunDueAsync(stoppingToken);
        }
    }
}
