using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Microsoft.Extensions.Logging;

namespace Fanfare.Emulator.Tests.Infrastructure.Scheduling;

/// <summary>What a test job did: written in the store by the job, so a rolled-back run leaves no trace.</summary>
public sealed class JobEffect : IDocument
{
    public string Id { get; set; } = "";
    public DateTimeOffset RanAt { get; set; }
    public int Order { get; set; }
}

/// <summary>
/// The scheduler runs consecutive due jobs of synchronous handlers in one store transaction (issue 15, clock advance).
/// These tests drive a <see cref="Scheduler"/> directly over an in-memory store, with test handlers, and check that
/// batching changes nothing observable: (time, creation) order, each job at its own instant, a failing job alone loses
/// its work, async jobs in between still run in order, a sandbox's jobs wait for its own clock.
/// </summary>
public sealed class SchedulerBatchTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2031, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly DocumentStore _store = DocumentStore.Open(true, Path.GetTempPath(), [typeof(JobEffect).Assembly, typeof(DocumentStore).Assembly]);
    private readonly EmulatorClock _clock = new();
    private readonly OrganizationClocks _own = new();
    private readonly ListLogger _log = new();
    private readonly List<string> _runs = []; // every run, including runs of a batch that was rolled back
    private int _order;

    public SchedulerBatchTests() => _clock.Freeze(T0);

    public void Dispose() => _store.Dispose();

    private Scheduler NewScheduler(params IJobHandler[] extra)
    {
        Scheduler? self = null;
        var handlers = new List<IJobHandler>
        {
            new SyncHandler("test.write", job => Write(job)),
            new SyncHandler("test.fail", job => { Write(job); throw new InvalidOperationException("boom"); }),
            // Schedules a follow-up due at once (as an event's webhook delivery is): it must run before later jobs.
            new SyncHandler("test.chain", job => { Write(job); self!.Schedule(job.Id + "/next", "test.write", ClockFor(job).GetUtcNow(), null, job.OrganizationId); }),
            new AsyncHandler("test.async", async job => { await Task.Yield(); Write(job); }),
        };
        handlers.AddRange(extra);
        self = new Scheduler(_store, new ClockResolver(_clock, _own), handlers, _log);
        return self;
    }

    private EmulatorClock ClockFor(ScheduledJob job) => _own.Get(job.OrganizationId) ?? _clock;

    private void Write(ScheduledJob job)
    {
        var now = ClockFor(job).GetUtcNow();
        lock (_runs) _runs.Add(job.Id);
        _store.Put(new JobEffect { Id = job.Id, RanAt = now, Order = ++_order });
    }

    private List<(string Id, DateTimeOffset At)> Effects() =>
        _store.All<JobEffect>().OrderBy(e => e.Order).Select(e => (e.Id, e.RanAt)).ToList();

    /// <summary>A mixed plan: ties at one instant (creation order decides), a job that schedules one due at once, an
    /// async job between sync ones, and jobs past the target that must not run.</summary>
    private static void Plan(Scheduler s)
    {
        s.Schedule("b", "test.write", T0.AddSeconds(5));
        s.Schedule("a", "test.write", T0.AddSeconds(5)); // same instant, created after b
        s.Schedule("c", "test.write", T0.AddSeconds(1));
        s.Schedule("chain", "test.chain", T0.AddSeconds(3));
        s.Schedule("d", "test.write", T0.AddSeconds(3)); // created before chain/next, so before it
        s.Schedule("async", "test.async", T0.AddSeconds(4));
        s.Schedule("e", "test.write", T0.AddSeconds(4));
        for (var i = 0; i < 40; i++) s.Schedule($"n{i:00}", "test.write", T0.AddSeconds(10 + i / 3));
        s.Schedule("late", "test.write", T0.AddSeconds(3600));
    }

    private static List<(string Id, DateTimeOffset At)> Expected()
    {
        var list = new List<(string, DateTimeOffset)>
        {
            ("c", T0.AddSeconds(1)), ("chain", T0.AddSeconds(3)), ("d", T0.AddSeconds(3)), ("chain/next", T0.AddSeconds(3)),
            ("async", T0.AddSeconds(4)), ("e", T0.AddSeconds(4)), ("b", T0.AddSeconds(5)), ("a", T0.AddSeconds(5)),
        };
        for (var i = 0; i < 40; i++) list.Add(($"n{i:00}", T0.AddSeconds(10 + i / 3)));
        return list;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(256)]
    public async Task Batched_jobs_run_in_time_and_creation_order_each_at_its_own_instant(int maxBatch)
    {
        var s = NewScheduler();
        s.MaxBatch = maxBatch;
        Plan(s);
        await s.AdvanceToAsync(T0.AddSeconds(60));

        Assert.Equal(Expected(), Effects());
        Assert.Equal(T0.AddSeconds(60), _clock.GetUtcNow());
        Assert.True(_clock.IsFrozen);
        Assert.Equal(1, s.Pending); // "late"
        Assert.Equal(T0.AddSeconds(3600), s.NextDue);
        Assert.Empty(_log.Errors);
        // Nothing ran twice, and the jobs that ran are gone from the store too.
        Assert.Equal(_runs.Count, _runs.Distinct().Count());
        Assert.Equal(new[] { "late" }, _store.All<ScheduledJob>().Select(j => j.Id));
    }

    [Fact]
    public async Task A_failing_job_in_a_batch_loses_only_its_own_work_and_the_advance_goes_on()
    {
        var s = NewScheduler();
        Plan(s);
        s.Schedule("bad", "test.fail", T0.AddSeconds(4)); // between e and b, in the middle of a batch

        await s.AdvanceToAsync(T0.AddSeconds(60));

        // Every other job's work is there, in order, at its instant (the batch ran again one job per transaction).
        Assert.Equal(Expected(), Effects());
        Assert.DoesNotContain(_store.All<JobEffect>(), e => e.Id == "bad");
        Assert.Contains(_log.Errors, m => m.Contains("bad") && m.Contains("test.fail"));
        Assert.Equal(T0.AddSeconds(60), _clock.GetUtcNow());
        Assert.Equal(1, s.Pending);
        Assert.Equal(new[] { "late" }, _store.All<ScheduledJob>().Select(j => j.Id));

        // The scheduler goes on normally afterwards.
        s.Schedule("after", "test.write", T0.AddSeconds(61));
        await s.AdvanceToAsync(T0.AddSeconds(62));
        Assert.Equal(("after", T0.AddSeconds(61)), Effects()[^1]);
    }

    [Fact]
    public async Task A_sandbox_job_waits_for_its_own_clock_and_a_global_advance_does_not_run_it()
    {
        var sandboxClock = new EmulatorClock();
        sandboxClock.Freeze(T0);
        _own.Set(["org_sandbox"], sandboxClock);
        var s = NewScheduler();
        s.Schedule("g1", "test.write", T0.AddSeconds(2));
        s.Schedule("sb", "test.write", T0.AddSeconds(3), null, "org_sandbox");
        s.Schedule("g2", "test.write", T0.AddSeconds(4));

        await s.AdvanceToAsync(T0.AddSeconds(10));
        Assert.Equal(new List<(string, DateTimeOffset)> { ("g1", T0.AddSeconds(2)), ("g2", T0.AddSeconds(4)) }, Effects());
        Assert.Equal(T0, sandboxClock.GetUtcNow());
        Assert.Equal(1, s.Pending);

        // The pump (no clock moves) does not run it either: it is not due on its own clock.
        await s.RunDueAsync();
        Assert.Equal(1, s.Pending);

        await s.AdvanceToAsync(sandboxClock, T0.AddSeconds(5));
        Assert.Equal(("sb", T0.AddSeconds(3)), Effects()[^1]);
        Assert.Equal(T0.AddSeconds(5), sandboxClock.GetUtcNow());
        Assert.Equal(T0.AddSeconds(10), _clock.GetUtcNow());
        Assert.Equal(0, s.Pending);
    }

    [Fact]
    public async Task A_deliberate_client_error_keeps_what_the_job_wrote_as_in_a_transaction_of_its_own()
    {
        var s = NewScheduler(new SyncHandler("test.4xx", job =>
        {
            Write(job);
            throw new Fanfare.Emulator.Infrastructure.Errors.ApiException(409, "conflict");
        }));
        s.Schedule("x", "test.write", T0.AddSeconds(1));
        s.Schedule("conflict", "test.4xx", T0.AddSeconds(2));
        s.Schedule("y", "test.write", T0.AddSeconds(3));

        await s.AdvanceToAsync(T0.AddSeconds(10));

        Assert.Equal(new List<(string, DateTimeOffset)> { ("x", T0.AddSeconds(1)), ("conflict", T0.AddSeconds(2)), ("y", T0.AddSeconds(3)) }, Effects());
        Assert.Single(_log.Errors);
        Assert.Equal(3, _runs.Count); // no re-run: the batch was not rolled back
    }

    private sealed class SyncHandler(string kind, Action<ScheduledJob> run) : ISyncJobHandler
    {
        public string Kind => kind;
        public void Run(ScheduledJob job) => run(job);
    }

    private sealed class AsyncHandler(string kind, Func<ScheduledJob, Task> run) : IJobHandler
    {
        public string Kind => kind;
        public Task RunAsync(ScheduledJob job, CancellationToken cancellationToken) => run(job);
    }

    private sealed class ListLogger : ILogger<Scheduler>
    {
        public readonly List<string> Errors = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error) lock (Errors) Errors.Add(formatter(state, exception));
        }
    }
}
