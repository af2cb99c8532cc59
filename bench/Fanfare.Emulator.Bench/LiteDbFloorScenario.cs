using System.Diagnostics;
using System.Globalization;
using LiteDB;

namespace Fanfare.Emulator.Bench;

/// <summary>
/// <c>litedb-floor</c>: what LiteDB alone costs for the documents the store-bound rows write, measured in the same run as
/// them — the floor under <c>queue-enter</c> and <c>queue-advance-24h</c> as long as the store is LiteDB (issue 11). No
/// emulator: one LiteDB 5.0.21 file in a temp folder opened as the emulator opens it (direct connection, ordinal
/// invariant collation, checkpoints by hand every 8,000 documents), one collection per kind with only its <c>_id</c> index
/// (as the emulator's since the seventh session; the secondary indexes it had before cost ≈ 30 % of the floor), documents
/// of the sizes the emulator writes, in group-commit batches.
/// <list type="bullet">
/// <item>entries: <c>--queue-consumers</c> queue entries, each the six inserts one entry makes (participant, event,
/// loyalty account, bucket and transaction, the bucket's expiry job), 32 entries per LiteDB transaction (the bench's
/// concurrency);</item>
/// <item>advance: the same consumers admitted (grant, expiry job and event inserted, participant updated) and expired
/// (grant and participant updated, job deleted), 512 consumers per transaction (a scheduler batch of 1,024 jobs).</item>
/// </list>
/// CPU time is the bench process's own over the phase (one thread writes).
/// </summary>
public sealed class LiteDbFloorScenario : IScenario
{
    public string Name => "litedb-floor";
    public string Description => "LiteDB alone: the inserts of --queue-consumers queue entries, then their admissions and expiries (the store-bound rows' floor)";

    private const string Org = "77545374-0f64-8b72-9773-503e10d6d32b", Queue = "9ea2bf59-fd90-87e8-b364-53633edfa282";

    public Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var n = context.Options.QueueConsumers;
        var dir = Directory.CreateTempSubdirectory("fanfare-bench-litedb-").FullName;
        try
        {
            var collation = new Collation(CultureInfo.InvariantCulture.LCID, CompareOptions.Ordinal);
            using var db = new LiteDatabase(new ConnectionString { Filename = Path.Combine(dir, "emulator.db"), Connection = ConnectionType.Direct, Collation = collation });
            db.CheckpointSize = 0;
            var written = 0;
            ILiteCollection<BsonDocument> Kind(string name) => db.GetCollection(name, BsonAutoId.ObjectId);
            var participants = Kind("QueueParticipant");
            var events = Kind("OutboxEvent");
            var accounts = Kind("LoyaltyAccount");
            var buckets = Kind("LoyaltyBucket");
            var transactions = Kind("LoyaltyTransaction");
            var jobs = Kind("ScheduledJob");
            var grants = Kind("AdmissionGrant");

            string Id(string kind, int i) => $"{kind}{i:D8}-4b7e-753f-8257-87bfb5a0453b";
            BsonDocument Doc(string id, int i, int bytes, long seq) => new()
            {
                ["_id"] = id, ["organizationId"] = Org, ["consumerId"] = Id("c", i), ["queueId"] = Queue, ["status"] = "QUEUED",
                ["at"] = "2026-11-30T10:05:04.766+00:00", ["position"] = i, ["payload"] = new string('x', Math.Max(0, bytes - 250)), ["_seq"] = seq,
            };
            long seq = 0;
            void Commit(Action write)
            {
                db.BeginTrans();
                write();
                db.Commit();
                if (written >= 8000) { db.Checkpoint(); written = 0; }
            }

            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            for (var first = 0; first < n; first += 32)
                Commit(() =>
                {
                    for (var i = first; i < Math.Min(n, first + 32); i++)
                    {
                        participants.Insert(Doc(Id("p", i), i, 511, ++seq));
                        events.Insert(Doc(Id("e", i), i, 457, ++seq));
                        accounts.Insert(Doc(Id("a", i), i, 363, ++seq));
                        buckets.Insert(Doc(Id("b", i), i, 280, ++seq));
                        transactions.Insert(Doc(Id("t", i), i, 723, ++seq));
                        jobs.Insert(Doc(Id("j", i), i, 283, ++seq));
                        written += 6;
                    }
                });
            var enterSeconds = watch.Elapsed.TotalSeconds;
            var enterCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;

            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            watch.Restart();
            for (var first = 0; first < n; first += 512)
                Commit(() =>
                {
                    for (var i = first; i < Math.Min(n, first + 512); i++)
                    {
                        grants.Insert(Doc(Id("g", i), i, 1356, ++seq));
                        jobs.Insert(Doc(Id("x", i), i, 283, ++seq));
                        events.Insert(Doc(Id("f", i), i, 1400, ++seq));
                        participants.Update(Doc(Id("p", i), i, 619, ++seq));
                        grants.Update(Doc(Id("g", i), i, 1356, ++seq));
                        participants.Update(Doc(Id("p", i), i, 649, ++seq));
                        jobs.Delete(Id("x", i));
                        written += 7;
                    }
                });
            var advanceSeconds = watch.Elapsed.TotalSeconds;
            var advanceCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;

            IReadOnlyList<Row> rows =
            [
                new(Name, $"LiteDB alone: {n} entries × 6 inserts", n / enterSeconds, "entries/s", $"{enterCpu * 1000 / (n * 6.0):0} µs CPU per document, {enterCpu / n:0.00} ms per entry; 32 entries per transaction"),
                new(Name, $"LiteDB alone: {n} admissions + expiries (7 writes each)", advanceSeconds * 1000, "ms", $"{advanceCpu * 1000 / (n * 7.0):0} µs CPU per write; 512 consumers per transaction"),
            ];
            return Task.FromResult(rows);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
