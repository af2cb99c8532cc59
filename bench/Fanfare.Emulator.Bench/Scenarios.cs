using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Bench;

/// <summary>One line of the results table.</summary>
public sealed record Row(string Scenario, string Metric, double Value, string Unit, string Detail = "");

/// <summary>
/// A benchmark. Add one by writing a class that implements this interface and listing it in
/// <see cref="Scenarios.All"/>; <c>--scenario name</c> selects it.
/// </summary>
public interface IScenario
{
    string Name { get; }
    string Description { get; }
    Task<IReadOnlyList<Row>> RunAsync(BenchContext context);
}

public static class Scenarios
{
    public static readonly IScenario[] All = [new KestrelRatioScenario(), new StartupScenario(), new ResetScenario(), new GuestScenario(), new RefreshScenario(),
        new QueueEnterScenario(), new QueueStatusScenario(), new QueueAdvanceScenario(), new ResetAfterConsumersScenario(), new CheckoutScenario(), new LiteDbFloorScenario()];

    /// <summary>What <c>--quick</c> runs by default: every row of the issue-15 table, nothing else.</summary>
    public static readonly string[] Quick = ["kestrel", "reset", "queue-enter", "queue-status", "queue-advance-24h", "reset-after-consumers"];
}

/// <summary>Shared state: the options, and one long-running emulator that the throughput scenarios share.</summary>
public sealed class BenchContext(BenchOptions options) : IAsyncDisposable
{
    private EmulatorProcess? _shared;
    private string? _publishableKey;
    private Task<QueueFixture>? _queue;
    private bool _queueUsedUp;

    public BenchOptions Options { get; } = options;

    /// <summary>The emulator shared by the reset/throughput scenarios (started on first use).</summary>
    public async Task<EmulatorProcess> SharedAsync() => _shared ??= await EmulatorProcess.StartAsync(Options);

    /// <summary>The default seed's first publishable key.</summary>
    public async Task<string> PublishableKeyAsync()
    {
        if (_publishableKey is not null) return _publishableKey;
        var emu = await SharedAsync();
        using var admin = emu.Client(emu.AdminPort, 1);
        var orgs = JsonNode.Parse(await admin.GetStringAsync("/_emulator/organizations"))!;
        return _publishableKey = orgs["organizations"]![0]!["publishableKey"]!.GetValue<string>();
    }

    /// <summary>The queue scenarios' private emulator with N consumers queued (built on first use; see <see cref="QueueFixture"/>).</summary>
    /// <paramref name="usedUpIsFine"/>: a scenario that only needs the N consumers to exist (not the queue waiting) may
    /// take the fixture after <c>queue-advance-24h</c> used its queue up.</summary>
    public async Task<QueueFixture> QueueAsync(bool usedUpIsFine = false)
    {
        if (_queueUsedUp && !usedUpIsFine) await ReleaseQueueAsync();
        return await (_queue ??= QueueFixture.CreateAsync(Options));
    }

    /// <summary>Marks the queue as used up (after <c>queue-advance-24h</c>): the next scenario that needs it waiting builds a new one.</summary>
    public void QueueUsedUp() => _queueUsedUp = true;

    /// <summary>Stops the queue scenarios' emulator.</summary>
    public async Task ReleaseQueueAsync()
    {
        var queue = _queue;
        _queue = null;
        _queueUsedUp = false;
        if (queue is { IsCompletedSuccessfully: true }) await queue.Result.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseQueueAsync();
        if (_shared is not null) await _shared.DisposeAsync();
    }
}

/// <summary>Spawn → first 200 of <c>/_emulator/health</c>: on an empty data folder (seeds it), then on the same folder again.</summary>
public sealed class StartupScenario : IScenario
{
    public string Name => "startup";
    public string Description => "process spawn to first 200 from /_emulator/health (median of --runs)";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var cold = new List<double>();
        var warm = new List<double>();
        for (int i = 0; i < context.Options.StartupRuns; i++)
        {
            string data;
            await using (var first = await EmulatorProcess.StartAsync(context.Options))
            {
                cold.Add(first.StartToHealthyMs);
                data = first.DataDirectory;
                first.KeepDataDirectory();
            }
            if (!context.Options.InMemory)
                await using (var again = await EmulatorProcess.StartAsync(context.Options, data))
                    warm.Add(again.StartToHealthyMs);
            TryDelete(data);
        }
        var rows = new List<Row> { new(Name, "start to healthy, empty data dir", Stats.Median(cold), "ms", Stats.Spread(cold)) };
        if (warm.Count > 0) rows.Add(new(Name, "start to healthy, existing data dir", Stats.Median(warm), "ms", Stats.Spread(warm)));
        return rows;
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary><c>POST /_emulator/reset</c> on the default seed, timed by the client (and by the server's <c>durationMs</c>).</summary>
public sealed class ResetScenario : IScenario
{
    public string Name => "reset";
    public string Description => "POST /_emulator/reset round trip (median of --resets)";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var emu = await context.SharedAsync();
        using var admin = emu.Client(emu.AdminPort, 1);
        var client = new List<double>();
        var server = new List<double>();
        var faults = new List<long>();
        for (int i = -3; i < context.Options.Resets; i++) // 3 untimed warm-up resets
        {
            var before = emu.MinorFaults();
            var (ms, serverMs) = await TimeAsync(admin);
            if (i < 0) continue;
            client.Add(ms);
            server.Add(serverMs);
            faults.Add(emu.MinorFaults() - before);
        }
        // Resets that grew the heap into fresh pages (≥ 100 faults: the default seed allocates ≈ 650 KB, ≈ 160 pages) against
        // those that reused warm memory: on a young emulator the difference is most of the spread.
        var grew = Enumerable.Range(0, faults.Count).Where(i => faults[i] >= 100).Select(i => server[i]).ToList();
        var warm = Enumerable.Range(0, faults.Count).Where(i => faults[i] < 100).Select(i => server[i]).ToList();
        string Median(List<double> xs) => xs.Count == 0 ? "-" : $"{Stats.Median(xs):0.0} ms";
        return
        [
            new(Name, "reset (client round trip)", Stats.Median(client), "ms", Stats.Spread(client)),
            new(Name, "reset (server durationMs)", Stats.Median(server), "ms", Stats.Spread(server)),
            new(Name, "emulator minor page faults per reset", Stats.Median(faults.Select(f => (double)f)), "faults",
                $"median; {grew.Count} resets with ≥ 100 (server {Median(grew)}), {warm.Count} with fewer (server {Median(warm)}); {PageFaults.Describe()}"),
        ];
    }

    /// <summary>One <c>POST /_emulator/reset</c>: client round trip and the server's <c>durationMs</c>.</summary>
    public static async Task<(double Client, double Server)> TimeAsync(HttpClient admin)
    {
        var watch = Stopwatch.StartNew();
        using var res = await admin.PostAsync("/_emulator/reset", null);
        var body = await res.Content.ReadAsStringAsync();
        var ms = watch.Elapsed.TotalMilliseconds;
        res.EnsureSuccessStatusCode();
        return (ms, JsonNode.Parse(body)!["durationMs"]!.GetValue<double>());
    }
}

/// <summary>Throughput of <c>POST /auth/guest</c> (a new consumer + session per call).</summary>
public sealed class GuestScenario : IScenario
{
    public string Name => "guest";
    public string Description => "POST /auth/guest requests/s";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var emu = await context.SharedAsync();
        var pk = await context.PublishableKeyAsync();
        using var http = emu.Client(emu.ConsumerPort, context.Options.Concurrency);
        var result = await Load.RunAsync(context.Options, _ => Task.FromResult(0), async (_, ct) =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/auth/guest");
            req.Headers.Add("X-Publishable-Key", pk);
            using var res = await http.SendAsync(req, ct);
            await res.Content.LoadIntoBufferAsync(ct);
            return (int)res.StatusCode;
        });
        return result.Rows(Name, "POST /auth/guest");
    }
}

/// <summary>
/// Throughput of <c>POST /auth/refresh</c>. Refresh tokens rotate (reuse revokes the session), so each worker owns one
/// guest session and always sends the token the previous refresh returned.
/// </summary>
public sealed class RefreshScenario : IScenario
{
    public string Name => "refresh";
    public string Description => "POST /auth/refresh requests/s (one rotating session per worker)";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var emu = await context.SharedAsync();
        var pk = await context.PublishableKeyAsync();
        using var http = emu.Client(emu.ConsumerPort, context.Options.Concurrency);

        var tokens = new string[context.Options.Concurrency];
        var result = await Load.RunAsync(context.Options, async worker =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/auth/guest");
            req.Headers.Add("X-Publishable-Key", pk);
            using var res = await http.SendAsync(req);
            res.EnsureSuccessStatusCode();
            tokens[worker] = JsonNode.Parse(await res.Content.ReadAsStringAsync())!["refreshToken"]!.GetValue<string>();
            return 0;
        }, async (worker, ct) =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, "/auth/refresh")
            {
                Content = new StringContent($"{{\"refreshToken\":\"{tokens[worker]}\"}}", Encoding.UTF8, "application/json"),
            };
            req.Headers.Add("X-Publishable-Key", pk);
            using var res = await http.SendAsync(req, ct);
            var text = await res.Content.ReadAsStringAsync(ct);
            if (res.IsSuccessStatusCode) tokens[worker] = JsonNode.Parse(text)!["refreshToken"]!.GetValue<string>();
            return (int)res.StatusCode;
        });
        return result.Rows(Name, "POST /auth/refresh");
    }
}

/// <summary>Closed-loop load: <c>--concurrency</c> workers share one budget of <c>--requests</c>, stopped after <c>--duration</c>.</summary>
public static class Load
{
    public sealed record Result(long Requests, double Seconds, double[] LatenciesMs, Dictionary<int, long> Statuses, long Errors)
    {
        public IReadOnlyList<Row> Rows(string scenario, string what)
        {
            var statuses = string.Join(" ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));
            if (Errors > 0) statuses += $" errors×{Errors}";
            Array.Sort(LatenciesMs);
            return
            [
                new(scenario, $"{what} throughput", Requests / Seconds, "req/s", $"{Requests} requests in {Seconds:0.0} s; {statuses}"),
                new(scenario, $"{what} latency p50", Stats.Percentile(LatenciesMs, 0.50), "ms", $"p90 {Stats.Percentile(LatenciesMs, 0.90):0.0} ms, p99 {Stats.Percentile(LatenciesMs, 0.99):0.0} ms"),
            ];
        }
    }

    public static async Task<Result> RunAsync(BenchOptions o, Func<int, Task<int>> init, Func<int, CancellationToken, Task<int>> step)
    {
        for (int w = 0; w < o.Concurrency; w++) await init(w);
        if (o.Warmup > 0) await RunOnceAsync(o.Concurrency, o.Warmup, TimeSpan.FromSeconds(Math.Max(2, o.DurationSeconds / 2)), step);
        return await RunOnceAsync(o.Concurrency, o.Requests, TimeSpan.FromSeconds(o.DurationSeconds), step);
    }

    /// <summary>
    /// Runs <paramref name="step"/> exactly once for each index 0..count-1 on <paramref name="concurrency"/> workers (no time
    /// limit, no warm-up): for work that must all happen, e.g. one queue entry per consumer.
    /// </summary>
    public static async Task<Result> RunEachAsync(int concurrency, long count, Func<int, CancellationToken, Task<int>> step)
    {
        long next = -1, errors = 0;
        var latencies = new List<double>[concurrency];
        var statuses = new Dictionary<int, long>[concurrency];
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>();
            var codes = statuses[w] = new Dictionary<int, long>();
            long i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var code = await step((int)i, CancellationToken.None);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    codes[code] = codes.GetValueOrDefault(code) + 1;
                }
                catch (HttpRequestException) { Interlocked.Increment(ref errors); }
                catch (TaskCanceledException) { Interlocked.Increment(ref errors); } // HttpClient.Timeout
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = watch.Elapsed.TotalSeconds;
        var merged = statuses.SelectMany(s => s).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return new Result(latencies.Sum(l => l.Count), seconds, latencies.SelectMany(l => l).ToArray(), merged, errors);
    }

    private static async Task<Result> RunOnceAsync(int concurrency, long budget, TimeSpan duration, Func<int, CancellationToken, Task<int>> step)
    {
        long issued = 0, errors = 0;
        var latencies = new List<double>[concurrency];
        var statuses = new Dictionary<int, long>[concurrency];
        using var cts = new CancellationTokenSource(duration);
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>();
            var codes = statuses[w] = new Dictionary<int, long>();
            while (!cts.IsCancellationRequested && Interlocked.Increment(ref issued) <= budget)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var code = await step(w, cts.Token);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    codes[code] = codes.GetValueOrDefault(code) + 1;
                }
                catch (OperationCanceledException) when (cts.IsCancellationRequested) { break; }
                catch (HttpRequestException) { Interlocked.Increment(ref errors); }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = watch.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        var merged = statuses.SelectMany(s => s).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return new Result(all.Length, seconds, all, merged, errors);
    }
}

public static class Stats
{
    public static double Median(IEnumerable<double> values) => Percentile(values.Order().ToArray(), 0.5);

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static string Spread(IReadOnlyCollection<double> v) =>
        v.Count == 0 ? "" : $"n={v.Count}, min {v.Min():0.0}, max {v.Max():0.0}";
}
