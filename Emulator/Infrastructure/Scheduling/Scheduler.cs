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
/// A handler whose whole work is synchronous and in the store (it waits for nothing outside the process). The scheduler
/// runs consecutive due jobs of such handlers inside ONE store transaction (one commit per batch instead of several per
/// job), still one by one, in (time, creation) order, each at its own instant. When a job of a batch fails (anything but
/// a 4xx <see cref="Errors.ApiException"/>), the batch is rolled back and its jobs run again one per transaction, so a
/// failing job never undoes the others' work. Async handlers (webhook delivery) keep running outside the store lock.
/// </summary>
public interface ISyncJobHandler : IJobHandler
{
    void Run(ScheduledJob job);

    /// <summary>After a batch that ran jobs of this kind was rolled back: drop in-memory indexes derived from the store
    /// (the store puts the documents back; caches beside it do not know).</summary>
    void AfterRollback() { }

    Task IJobHandler.RunAsync(ScheduledJob job, CancellationToken cancellationToken)
    {
        Run(job);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Time-ordered work on the emulator clock. Jobs are documents (they survive a restart). Moving the clock with
/// <see cref="AdvanceToAsync(DateTimeOffset, CancellationToken)"/> steps the clock to each due job's instant and runs
/// it, in (time, creation) order, so everything that fell due has happened, deterministically, before the move returns;
/// a background pump runs what falls due as real time passes.
/// </summary>
public sealed class Scheduler(DocumentStore store, ClockResolver clocks, IEnumerable<IJobHandler> handlers, ILogger<Scheduler> log)
{
    private EmulatorClock clock => clocks.Global;
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind);
    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly object _indexSync = new();
    private SortedSet<(DateTimeOffset At, long Seq, string Id)> _index = [];
    // Job id → its organization (whose clock decides when it is due: a sandbox's own clock, else the global one).
    private Dictionary<string, string?> _orgOf = new(StringComparer.Ordinal);
    private long _seq;

    /// <summary>Rebuilds the in-memory index from the store (start-up, reset).</summary>
    public void Rebuild()
    {
        lock (_indexSync)
        {
            var jobs = store.All<ScheduledJob>();
            _index = new SortedSet<(DateTimeOffset, long, string)>(jobs.Select(j => (j.At, j.Seq, j.Id)));
            _orgOf = jobs.ToDictionary(j => j.Id, j => j.OrganizationId, StringComparer.Ordinal);
            _seq = jobs.Count == 0 ? 0 : jobs.Max(j => j.Seq);
        }
    }

    /// <summary>The last creation number given to a job (jobs due at the same instant run in creation order); a snapshot
    /// carries it.</summary>
    public long Sequence { get { lock (_indexSync) return _seq; } }

    /// <summary>After <see cref="Rebuild"/> from imported jobs: creation numbers continue after <paramref name="seq"/>
    /// (never below a stored job's).</summary>
    public void ContinueSequence(long seq)
    {
        lock (_indexSync) _seq = Math.Max(_seq, seq);
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
                _orgOf[job.Id] = organizationId;
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
            lock (_indexSync) { _index.Remove((existing.At, existing.Seq, existing.Id)); _orgOf.Remove(existing.Id); }
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

    /// <summary>
    /// The first job (time, creation order) that is due: with <paramref name="only"/>, a job on that clock at or before
    /// <paramref name="upTo"/>; without, any job at or before its own clock's now. Caller holds <c>_indexSync</c>.
    /// </summary>
    private (DateTimeOffset At, long Seq, string Id)? FindDue(EmulatorClock? only, DateTimeOffset upTo)
    {
        Dictionary<EmulatorClock, DateTimeOffset>? nows = null;
        foreach (var e in _index)
        {
            if (e.At > upTo) return null;
            var c = clocks.For(_orgOf.GetValueOrDefault(e.Id));
            if (only is not null) { if (ReferenceEquals(c, only)) return e; continue; }
            nows ??= [];
            if (!nows.TryGetValue(c, out var now)) nows[c] = now = c.GetUtcNow();
            if (e.At <= now) return e;
        }
        return null;
    }

    /// <summary>The latest "now" of any clock (no job after it can be due on any clock).</summary>
    private DateTimeOffset LatestNow()
    {
        var latest = clock.GetUtcNow();
        foreach (var c in clocks.Others) if (c.GetUtcNow() is var n && n > latest) latest = n;
        return latest;
    }

    /// <summary>True when some job is due on its organization's clock (the background pump asks).</summary>
    public bool HasDue
    {
        get
        {
            var upTo = LatestNow();
            lock (_indexSync) return FindDue(null, upTo) is not null;
        }
    }

    /// <summary>Removes and returns the first due job, in a store transaction of its own or the caller's.</summary>
    private ScheduledJob? TakeDue(EmulatorClock? only, DateTimeOffset upTo)
    {
        return store.Transaction(() =>
        {
            (DateTimeOffset At, long Seq, string Id) first;
            lock (_indexSync)
            {
                if (FindDue(only, upTo) is not { } found) return null;
                first = found;
                _index.Remove(first);
                _orgOf.Remove(first.Id);
            }
            var job = store.Get<ScheduledJob>(first.Id);
            if (job is not null) store.Delete<ScheduledJob>(job.Id);
            return job;
        });
    }

    /// <summary>Runs every job due at or before its organization's clock's current time (background pump).</summary>
    public Task RunDueAsync(CancellationToken ct = default) => StepAsync(null, LatestNow(), ct);

    /// <summary>Moves the global clock forward to <paramref name="target"/>, running the default world's due jobs
    /// (those on the global clock) at their own instants on the way. Sandboxes' jobs wait for their own clocks.</summary>
    public Task AdvanceToAsync(DateTimeOffset target, CancellationToken ct = default) => StepAsync(clock, target, ct);

    /// <summary>Moves <paramref name="on"/> (a sandbox's clock) forward to <paramref name="target"/>, running only the
    /// jobs of organizations on that clock, in time order, each at its own instant.</summary>
    public Task AdvanceToAsync(EmulatorClock on, DateTimeOffset target, CancellationToken ct = default) => StepAsync(on, target, ct);

    /// <summary>How many synchronous jobs one store transaction runs at most (bounds how long the store lock is held).</summary>
    /// <remarks>1024: a 24 h advance at 60 admissions/min then spans more than a 300 s grant lifetime per batch, so many
    /// grants are issued and expired in the same batch and each document reaches the file once (measured: half the CPU of
    /// 256; 4096 no better). The store lock is held for one batch: tens of milliseconds on an idle VM.</remarks>
    internal int MaxBatch { get; set; } = 1024;

    private async Task StepAsync(EmulatorClock? moving, DateTimeOffset target, CancellationToken ct)
    {
        await _running.WaitAsync(ct);
        try
        {
            if (moving is null) target = LatestNow();
            var oneByOne = 0; // after a failed batch: how many jobs run one per transaction before batching again
            while (true)
            {
                ScheduledJob? job;
                if (oneByOne > 0)
                {
                    job = TakeDue(moving, target);
                    if (job is null) break;
                    oneByOne--;
                }
                else
                {
                    var outcome = RunBatch(moving, target);
                    if (outcome.FailedAfter > 0) { oneByOne = outcome.FailedAfter; continue; }
                    if (outcome.More) continue;
                    job = outcome.Next;
                    if (job is null) break;
                }
                if (moving is not null && job.At > moving.GetUtcNow()) moving.MoveTo(job.At);
                if (!_handlers.TryGetValue(job.Kind, out var handler))
                {
                    log.LogWarning("No handler for scheduled job kind {Kind}; dropped {Id}", job.Kind, job.Id);
                    continue;
                }
                try
                {
                    using (DocumentStore.UseMode(job.Mode))
                    {
                        // A synchronous job alone (after a failed batch) still runs in a transaction of its own.
                        if (handler is ISyncJobHandler sync) store.Transaction(() => sync.Run(job));
                        else await handler.RunAsync(job, ct);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogError(ex, "Scheduled job {Id} ({Kind}) failed", job.Id, job.Kind);
                }
            }
            if (moving is not null && target > moving.GetUtcNow()) moving.MoveTo(target);
        }
        finally { _running.Release(); }
    }

    /// <summary>What <see cref="RunBatch"/> did. <c>Next</c>: a due job it took but did not run (its handler is async),
    /// to run outside the store lock. <c>More</c>: the batch was full, more may be due. <c>FailedAfter</c> &gt; 0: a job
    /// failed, the batch was rolled back and that many jobs are to run again one per transaction. All empty: nothing due.</summary>
    private readonly record struct BatchOutcome(ScheduledJob? Next, bool More, int FailedAfter);

    private sealed class BatchFailed(Exception inner) : Exception("A scheduled job of a batch failed", inner);

    /// <summary>
    /// Takes and runs consecutive due jobs of <see cref="ISyncJobHandler"/>s inside one store transaction (at most
    /// <see cref="MaxBatch"/>), one by one in (time, creation) order, each at its own instant; stops at the first due job of
    /// an async handler (returned, taken, to run outside the lock) or when nothing is due.
    /// </summary>
    private BatchOutcome RunBatch(EmulatorClock? moving, DateTimeOffset target)
    {
        lock (store.Sync)
        {
            var before = moving?.GetUtcNow();
            var ran = 0;
            List<ISyncJobHandler>? used = null;
            try
            {
                return store.Transaction(() =>
                {
                    while (true)
                    {
                        if (ran == MaxBatch) return new BatchOutcome(null, true, 0);
                        var job = TakeDue(moving, target);
                        if (job is null) return new BatchOutcome(null, false, 0);
                        ran++;
                        if (!_handlers.TryGetValue(job.Kind, out var handler) || handler is not ISyncJobHandler sync)
                            return new BatchOutcome(job, false, 0); // taken: its removal commits with the batch; it runs next
                        if (moving is not null && job.At > moving.GetUtcNow()) moving.MoveTo(job.At);
                        if (!(used ??= []).Contains(sync)) used.Add(sync);
                        try { using (DocumentStore.UseMode(job.Mode)) sync.Run(job); }
                        catch (Errors.ApiException ex) when (ex.Status < 500)
                        {
                            // As in a transaction of its own: a deliberate client error keeps what the job wrote before it.
                            log.LogError(ex, "Scheduled job {Id} ({Kind}) failed", job.Id, job.Kind);
                        }
                        catch (Exception ex) { throw new BatchFailed(ex); }
                    }
                });
            }
            catch (Exception ex)
            {
                // The store put every document back; put back what lives beside it: the job index, the clock, the engines'
                // in-memory indexes. Then the same jobs run again, one per transaction (the failing one fails alone).
                var seq = _seq;
                Rebuild();
                lock (_indexSync) _seq = Math.Max(_seq, seq);
                if (moving is not null && before is { } b) moving.MoveTo(b);
                foreach (var h in used ?? []) h.AfterRollback();
                if (ex is not BatchFailed) throw;
                return new BatchOutcome(null, false, Math.Max(1, ran));
            }
        }
    }
}

/// <summary>Runs work that falls due as real time passes. While the clock is frozen it still runs whatever is due at or
/// before the frozen instant (a first webhook attempt, an admission due now): frozen stops time, not work.</summary>
public sealed class SchedulerPump(Scheduler scheduler, Hosting.EmulatorOptions options, Hosting.EmulatorState state) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(Math.Max(20, options.SchedulerIntervalMs), stoppingToken); }
            catch (OperationCanceledException) { return; }
            if (!state.Ready) continue;
            if (scheduler.HasDue)
                await scheduler.RunDueAsync(stoppingToken);
        }
    }
}
