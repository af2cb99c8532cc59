using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Bench;

/// <summary>A correctness check of a scenario failed: the bench prints it loudly and exits non-zero.</summary>
public sealed class BenchCheckFailedException(string message) : Exception(message);

/// <summary>
/// A private emulator (its own process and temp data folder) with its clock frozen, a queue created through the admin API
/// (<c>POST /api/queues</c>, admitRate 60/min, admissionExpirationSeconds 300) in a seeded sequence, and
/// <c>--queue-consumers</c> (10,000) guests that entered it concurrently. The clock never moves until
/// <c>queue-advance-24h</c>, so nobody is admitted before. Entering is checked: every entry 200 QUEUED, positions
/// exactly 1..N in the responses and in <c>GET /_emulator/distributions/{id}/participants</c>.
/// </summary>
public sealed class QueueFixture : IAsyncDisposable
{
    public const double AdmitRatePerMinute = 60;
    public const int AdmissionExpirationSeconds = 300;

    public required EmulatorProcess Emulator { get; init; }
    public required HttpClient Consumer { get; init; }
    public required HttpClient Admin { get; init; }
    public required string PublishableKey { get; init; }
    public required string QueueId { get; init; }
    public required string[] AccessTokens { get; init; }
    /// <summary>The position each consumer's entry answered (index = consumer).</summary>
    public required int[] Positions { get; init; }
    /// <summary>The rows of the setup and of the timed entries (reported by <c>queue-enter</c>).</summary>
    public required IReadOnlyList<Row> EnterRows { get; init; }

    public int Count => AccessTokens.Length;

    public static async Task<QueueFixture> CreateAsync(BenchOptions o)
    {
        const string scenario = "queue-enter";
        var n = o.QueueConsumers;
        var workers = o.Concurrency;
        var emu = await EmulatorProcess.StartAsync(o);
        HttpClient? consumer = null, admin = null;
        try
        {
            consumer = emu.Client(emu.ConsumerPort, workers);
            admin = emu.Client(emu.AdminPort, 4);
            var org = JsonNode.Parse(await admin.GetStringAsync("/_emulator/organizations"))!["organizations"]![0]!;
            var pk = org["publishableKey"]!.GetValue<string>();
            var sk = org["secretKey"]!.GetValue<string>();
            admin.DefaultRequestHeaders.Authorization = new("Bearer", sk);

            // Frozen clock: the admission job (every 1 s at 60/min) never falls due until queue-advance-24h moves it.
            await Http.SendJsonAsync(admin, HttpMethod.Post, "/_emulator/clock/freeze", "{}");

            // A seeded sequence: the one holding the seeded queue ("Sneaker Drop — Queue"), else the first.
            var sequences = (JsonArray)(await Http.SendJsonAsync(admin, HttpMethod.Get, "/api/sequences?first=100", null))["data"]!;
            var sequence = sequences.FirstOrDefault(s => s?["queues"] is JsonArray { Count: > 0 }) ?? sequences.FirstOrDefault()
                ?? throw new InvalidOperationException("the seed has no sequence");
            var sequenceId = sequence["id"]!.GetValue<string>();
            string CreateBody(string name) => new JsonObject
            {
                ["sequenceId"] = sequenceId, ["name"] = name, ["admitRate"] = AdmitRatePerMinute,
                ["admissionExpirationSeconds"] = AdmissionExpirationSeconds, ["supportsGuest"] = true,
            }.ToJsonString();

            // Untimed warm-up (JIT, pools) on a throw-away queue: guests, entries and status reads; then it is deleted.
            var warm = (int)Math.Min(o.Warmup, 2000);
            if (warm > 0)
            {
                var warmQueue = (await Http.SendJsonAsync(admin, HttpMethod.Post, "/api/queues", CreateBody("Bench warm-up queue")))["id"]!.GetValue<string>();
                var warmTokens = new string[warm];
                await Load.RunEachAsync(workers, warm, async (i, ct) => { warmTokens[i] = await GuestAsync(consumer, pk, ct); return 200; });
                await Load.RunEachAsync(workers, warm, async (i, ct) => (await EnterAsync(consumer, pk, warmQueue, warmTokens[i], ct)).Code);
                await Load.RunEachAsync(workers, warm, async (i, ct) => (await StatusAsync(consumer, pk, warmQueue, warmTokens[i], ct)).Code);
                await Http.SendJsonAsync(admin, HttpMethod.Delete, $"/api/queues/{warmQueue}", null);
            }

            var queueId = (await Http.SendJsonAsync(admin, HttpMethod.Post, "/api/queues", CreateBody("Bench queue")))["id"]!.GetValue<string>();

            // 1. N guest sessions (timed separately: setup, not part of the entry rate).
            var tokens = new string[n];
            var guests = await Load.RunEachAsync(workers, n, async (i, ct) => { tokens[i] = await GuestAsync(consumer, pk, ct); return 200; });
            if (guests.Errors > 0 || tokens.Any(t => t is null))
                throw new BenchCheckFailedException($"{scenario}: {tokens.Count(t => t is null)} of {n} guest sessions could not be created");

            // 2. N concurrent entries, one per consumer.
            var statuses = new string?[n];
            var positions = new int[n];
            var cpuBefore = emu.CpuMs();
            var faultsBefore = emu.MinorFaults();
            var countersBefore = await emu.StoreCountersAsync();
            var entries = await Load.RunEachAsync(workers, n, async (i, ct) =>
            {
                var r = await EnterAsync(consumer, pk, queueId, tokens[i], ct);
                statuses[i] = r.Status;
                positions[i] = r.Position ?? 0;
                return r.Code;
            });
            var cpuPerEntry = (emu.CpuMs() - cpuBefore) / n;
            var faultsPerEntry = (double)(emu.MinorFaults() - faultsBefore) / n;
            var countersAfter = await emu.StoreCountersAsync();

            // 3. Correctness: 0 lost, 0 duplicate positions (responses and the emulator's own participant list).
            var problems = new List<string>();
            var lost = Enumerable.Range(0, n).Count(i => statuses[i] != "QUEUED");
            if (lost > 0 || entries.Errors > 0)
                problems.Add($"{lost} of {n} entries did not answer 200 QUEUED (statuses {Describe(entries.Statuses)}, transport errors {entries.Errors})");
            var answered = positions.Where(p => p > 0).ToList();
            var duplicates = answered.Count - answered.Distinct().Count();
            if (duplicates > 0 || !answered.Order().SequenceEqual(Enumerable.Range(1, n)))
                problems.Add($"entry responses: {duplicates} duplicate positions; positions are not exactly 1..{n} " +
                             $"({answered.Count} answered, min {(answered.Count > 0 ? answered.Min() : 0)}, max {(answered.Count > 0 ? answered.Max() : 0)})");
            var participants = await ParticipantsAsync(admin, queueId);
            var queued = participants.Where(p => p?["status"]?.GetValue<string>() == "QUEUED").ToList();
            var listed = queued.Select(p => p!["position"]?.GetValue<int>() ?? 0).ToList();
            var entryPositions = participants.Select(p => p?["entryPosition"]?.GetValue<int>() ?? 0).ToList();
            if (participants.Count != n || queued.Count != n)
                problems.Add($"participants: {participants.Count} listed, {queued.Count} QUEUED, expected {n}");
            if (!listed.Order().SequenceEqual(Enumerable.Range(1, n)))
                problems.Add($"participants: {listed.Count - listed.Distinct().Count()} duplicate positions; positions are not exactly 1..{n}");
            if (!entryPositions.Order().SequenceEqual(Enumerable.Range(1, n)))
                problems.Add($"participants: {entryPositions.Count - entryPositions.Distinct().Count()} duplicate entryPositions; not exactly 1..{n}");
            if (problems.Count > 0) throw new BenchCheckFailedException($"{scenario}: " + string.Join("; ", problems));

            var rows = new List<Row>
            {
                new(scenario, $"setup: {n} POST /auth/guest", guests.Seconds * 1000, "ms", $"{n / guests.Seconds:0} sessions/s, {workers} workers"),
            };
            rows.AddRange(entries.Rows(scenario, $"POST /queues/{{id}}/enter ×{n}"));
            rows.Add(new(scenario, "emulator CPU per entry", cpuPerEntry, "ms", "user + system time of the emulator process over the entries ÷ N"));
            rows.Add(new(scenario, "emulator minor page faults per entry", faultsPerEntry, "faults", $"over the entries ÷ N (the heap growing into fresh pages); {PageFaults.Describe()}"));
            if (countersBefore is { } cb && countersAfter is { } ca)
            {
                // Counted by the store over the entries (the statement above included: one more read of /_emulator/info).
                var transactions = ca.Transactions - cb.Transactions;
                var commits = ca.Commits - cb.Commits;
                rows.Add(new(scenario, "store transactions committed per second", transactions / entries.Seconds, "tx/s",
                    $"{transactions} write transactions over the entries (store.transactions of /_emulator/info)"));
                rows.Add(new(scenario, "data-file commits per second", commits / entries.Seconds, "commits/s",
                    $"{commits} LiteDB commits, {(commits > 0 ? (double)transactions / commits : 0):0.0} transactions each (group commit)"));
            }
            rows.Add(new(scenario, "check: 0 lost, 0 duplicate positions", n, "QUEUED", $"positions exactly 1..{n} in the responses and in /_emulator/distributions/{{id}}/participants"));
            return new QueueFixture
            {
                Emulator = emu, Consumer = consumer, Admin = admin, PublishableKey = pk, QueueId = queueId,
                AccessTokens = tokens, Positions = positions, EnterRows = rows,
            };
        }
        catch
        {
            consumer?.Dispose();
            admin?.Dispose();
            await emu.DisposeAsync();
            throw;
        }
    }

    private static string Describe(Dictionary<int, long> statuses) => string.Join(" ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"));

    public static async Task<JsonArray> ParticipantsAsync(HttpClient admin, string queueId) =>
        (JsonArray)(await Http.SendJsonAsync(admin, HttpMethod.Get, $"/_emulator/distributions/{queueId}/participants", null))["participants"]!;

    internal static async Task<string> GuestAsync(HttpClient http, string pk, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/auth/guest");
        req.Headers.Add("X-Publishable-Key", pk);
        using var res = await http.SendAsync(req, ct);
        var text = await res.Content.ReadAsStringAsync(ct);
        if (!res.IsSuccessStatusCode) throw new BenchCheckFailedException($"POST /auth/guest answered {(int)res.StatusCode}: {text}");
        return JsonNode.Parse(text)!["accessToken"]!.GetValue<string>();
    }

    public record struct QueueAnswer(int Code, string? Status, int? Position);

    public static Task<QueueAnswer> EnterAsync(HttpClient http, string pk, string queueId, string token, CancellationToken ct) =>
        CallAsync(http, HttpMethod.Post, $"/queues/{queueId}/enter", pk, token, ct);

    public static Task<QueueAnswer> StatusAsync(HttpClient http, string pk, string queueId, string token, CancellationToken ct) =>
        CallAsync(http, HttpMethod.Get, $"/queues/{queueId}/status", pk, token, ct);

    private static async Task<QueueAnswer> CallAsync(HttpClient http, HttpMethod method, string path, string pk, string token, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(method, "/api" + path);
        req.Headers.Add("X-Publishable-Key", pk);
        req.Headers.Authorization = new("Bearer", token);
        using var res = await http.SendAsync(req, ct);
        var text = await res.Content.ReadAsStringAsync(ct);
        if (!res.IsSuccessStatusCode) return new((int)res.StatusCode, null, null);
        var j = JsonNode.Parse(text)!;
        return new((int)res.StatusCode, j["status"]?.GetValue<string>(), j["position"]?.GetValue<int>());
    }

    public async ValueTask DisposeAsync()
    {
        Consumer.Dispose();
        Admin.Dispose();
        await Emulator.DisposeAsync();
    }
}

/// <summary><c>queue-enter</c>: N guest sessions (timed apart), then N concurrent entries into one queue, checked.</summary>
public sealed class QueueEnterScenario : IScenario
{
    public string Name => "queue-enter";
    public string Description => "--queue-consumers concurrent POST /queues/{id}/enter (frozen clock), checked: 0 lost, positions exactly 1..N";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context) => (await context.QueueAsync()).EnterRows;
}

/// <summary><c>queue-status</c>: <c>GET /queues/{id}/status</c> over the N queued consumers (each answer checked).</summary>
public sealed class QueueStatusScenario : IScenario
{
    public string Name => "queue-status";
    public string Description => "--status-requests GET /queues/{id}/status over the queued consumers";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var q = await context.QueueAsync();
        long wrong = 0;
        var total = context.Options.StatusRequests;
        var result = await Load.RunEachAsync(context.Options.Concurrency, total, async (i, ct) =>
        {
            var who = i % q.Count;
            var r = await QueueFixture.StatusAsync(q.Consumer, q.PublishableKey, q.QueueId, q.AccessTokens[who], ct);
            if (r.Status != "QUEUED" || r.Position != q.Positions[who]) Interlocked.Increment(ref wrong);
            return r.Code;
        });
        if (wrong > 0 || result.Errors > 0)
            throw new BenchCheckFailedException($"{Name}: {wrong} of {total} status answers were not QUEUED at the consumer's entry position ({result.Errors} transport errors)");
        return result.Rows(Name, $"GET /queues/{{id}}/status ({q.Count} queued)");
    }
}

/// <summary>
/// <c>queue-advance-24h</c>: one <c>POST /_emulator/clock/advance {"seconds":86400}</c> with the N consumers waiting
/// (admitRate 60/min, grants of 300 s): the wall-clock time of that call, and who got admitted (participants endpoint).
/// The queue is used up afterwards: a later queue scenario builds a new one.
/// </summary>
public sealed class QueueAdvanceScenario : IScenario
{
    public string Name => "queue-advance-24h";
    public string Description => "POST /_emulator/clock/advance {\"seconds\":86400} with the queued consumers (admitRate 60/min)";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var q = await context.QueueAsync();
        try
        {
            const int seconds = 86_400;
            using var slow = q.Emulator.Client(q.Emulator.AdminPort, 1);
            slow.Timeout = TimeSpan.FromMinutes(30); // bounded, but an advance may take long
            var cpuBefore = q.Emulator.CpuMs();
            var faultsBefore = q.Emulator.MinorFaults();
            var watch = Stopwatch.StartNew();
            await Http.SendJsonAsync(slow, HttpMethod.Post, "/_emulator/clock/advance", $"{{\"seconds\":{seconds}}}");
            var ms = watch.Elapsed.TotalMilliseconds;
            var cpu = q.Emulator.CpuMs() - cpuBefore;
            var faults = q.Emulator.MinorFaults() - faultsBefore;

            var participants = await QueueFixture.ParticipantsAsync(q.Admin, q.QueueId);
            var admitted = participants.Count(p => p?["grantedAt"] is not null);
            var byStatus = participants.GroupBy(p => p?["status"]?.GetValue<string>() ?? "?").OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}");
            var expected = (int)Math.Min(q.Count, Math.Floor(seconds / 60.0 * QueueFixture.AdmitRatePerMinute));
            var note = admitted == expected ? "as expected" : $"EXPECTED {expected}";
            return
            [
                new(Name, "POST /_emulator/clock/advance 86400 s (wall clock)", ms, "ms", $"{q.Count} queued, admitRate {QueueFixture.AdmitRatePerMinute}/min, grants {QueueFixture.AdmissionExpirationSeconds} s"),
                new(Name, "emulator CPU during the advance", cpu, "ms", "user + system time of the emulator process (all threads)"),
                new(Name, "emulator minor page faults during the advance", faults, "faults", PageFaults.Describe()),
                new(Name, "admitted during the advance", admitted, "consumers", $"{note}; now {string.Join(" ", byStatus)}"),
            ];
        }
        finally
        {
            context.QueueUsedUp();
        }
    }
}

public static class Http
{
    /// <summary>Sends a JSON body (or none) and returns the parsed 2xx answer; throws with the body otherwise.</summary>
    public static async Task<JsonNode> SendJsonAsync(HttpClient http, HttpMethod method, string path, string? json)
    {
        using var req = new HttpRequestMessage(method, path);
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var res = await http.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path} answered {(int)res.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }
}
