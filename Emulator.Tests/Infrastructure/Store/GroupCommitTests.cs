using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>
/// Issues 11/15 (store rows): group commit (concurrent transactions share one LiteDB commit, each returns once its own
/// writes are in the file) and resets that switch to a new generation of collections instead of deleting one by one.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly StoreDirectory _files = new("fanfare-group-commit-");

    private DocumentStore Open(bool inMemory = false) => inMemory ? StoreDirectory.OpenInMemory() : _files.Open();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Concurrent_transactions_are_all_in_the_file_after_a_restart()
    {
        const int threads = 16, each = 40;
        using (var store = Open())
        {
            store.Put(new ProbeDocument { Id = "counter" });
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                for (var i = 0; i < each; i++)
                    store.Transaction(() =>
                    {
                        var counter = store.Get<ProbeDocument>("counter")!;
                        counter.Priority++; // read → modify → write, as an engine does (queue positions)
                        store.Put(counter);
                        store.Put(new ProbeDocument { Id = $"t{t}-{i}", Priority = counter.Priority });
                    });
            });
            Assert.Equal(threads * each, store.Get<ProbeDocument>("counter")!.Priority);
        }
        using (var reopened = Open())
        {
            Assert.Equal(threads * each, reopened.Get<ProbeDocument>("counter")!.Priority);
            var docs = reopened.All<ProbeDocument>().Where(d => d.Id != "counter").ToList();
            Assert.Equal(threads * each, docs.Count);
            // Every value 1..N exactly once, and insertion order is commit order: the order the transactions ran in.
            Assert.Equal(Enumerable.Range(1, threads * each).Select(i => (double)i), docs.Select(d => d.Priority));
        }
    }

    [Fact]
    public void Failing_transactions_among_concurrent_writers_restore_from_the_committed_state_including_queued_commits()
    {
        using var store = Open();
        store.Put(new ProbeDocument { Id = "shared", Priority = 0 });
        var writers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 50; i++)
                store.Transaction(() =>
                {
                    var d = store.Get<ProbeDocument>("shared")!;
                    d.Priority++;
                    store.Put(d);
                });
        })).ToList();
        var failures = Task.Run(() =>
        {
            for (var i = 0; i < 100; i++)
                Assert.Throws<InvalidOperationException>(() => store.Transaction(() =>
                {
                    var d = store.Get<ProbeDocument>("shared")!;
                    d.Priority = -1000; // must vanish: restored from the file plus whatever is queued for it
                    store.Put(d);
                    _ = store.All<ProbeDocument>();
                    throw new InvalidOperationException("engine failure");
                }));
        });
        Task.WaitAll([.. writers, failures]);
        Assert.Equal(400, store.Get<ProbeDocument>("shared")!.Priority);
    }

    [Theory]
    [InlineData(10)]   // a reset that deletes few documents rewrites the collections in place
    [InlineData(600)]  // one that would delete many switches to a new generation of collections
    public void A_reset_is_durable_across_a_restart_and_a_failed_one_changes_nothing(int before)
    {
        using (var store = Open())
        {
            for (var i = 0; i < before; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
            using (DocumentStore.UseMode(StoreModes.Live)) store.Put(new ProbeDocument { Id = "live-old" });

            // A reset that throws half-way leaves everything as it was, in memory …
            Assert.Throws<InvalidOperationException>(() => store.Transaction(() =>
            {
                store.Clear();
                store.Put(new ProbeDocument { Id = "half" });
                throw new InvalidOperationException("seed failure");
            }));
            Assert.Equal(before, store.Count<ProbeDocument>());
            Assert.Null(store.Get<ProbeDocument>("half"));

            store.Transaction(() =>
            {
                store.Clear();
                store.Put(new ProbeDocument { Id = "seed-a", Priority = 1 });
                store.Put(new ProbeDocument { Id = "seed-b", Priority = 2 });
            });
            Assert.Equal(["seed-a", "seed-b"], store.All<ProbeDocument>().Select(d => d.Id));
            store.Put(new ProbeDocument { Id = "after", Priority = 3 });
        }
        using (var reopened = Open())
        {
            Assert.Equal(["seed-a", "seed-b", "after"], reopened.All<ProbeDocument>().Select(d => d.Id));
            using (DocumentStore.UseMode(StoreModes.Live)) Assert.Empty(reopened.All<ProbeDocument>());

            // … and a second reset on top of the first (the next generation, or in place again) as well.
            reopened.Transaction(() =>
            {
                reopened.Clear();
                reopened.Put(new ProbeDocument { Id = "second" });
            });
        }
        using (var third = Open())
            Assert.Equal(["second"], third.All<ProbeDocument>().Select(d => d.Id));
    }

    [Fact]
    public async Task The_previous_generation_is_dropped_in_the_background_once_the_store_is_idle()
    {
        using var store = Open();
        for (var i = 0; i < 1200; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
        store.Transaction(() =>
        {
            store.Clear();
            store.Put(new ProbeDocument { Id = "seed" });
        });
        for (var waited = 0; store.StaleCollectionCount() > 0 && waited < 30_000; waited += 50) await Task.Delay(50);
        Assert.Equal(0, store.StaleCollectionCount());
        Assert.Equal(["seed"], store.All<ProbeDocument>().Select(d => d.Id));
    }

    [Fact]
    public void Resets_back_to_back_with_many_documents_keep_only_the_last_state()
    {
        using (var store = Open())
            for (var round = 0; round < 4; round++)
                store.Transaction(() =>
                {
                    store.Clear();
                    for (var i = 0; i < 300; i++) store.Put(new ProbeDocument { Id = $"r{round}-{i}", Priority = round });
                });
        using (var reopened = Open())
        {
            var all = reopened.All<ProbeDocument>();
            Assert.Equal(300, all.Count);
            Assert.All(all, d => Assert.Equal(3, d.Priority));
        }
    }
}

/// <summary><c>POST /_emulator/reset</c> over HTTP on a data directory: what the reset acknowledged is what a restart finds.</summary>
public sealed class ResetDurabilityTests
{
    [Fact]
    public async Task An_acknowledged_reset_is_what_a_restart_finds()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fanfare-reset-durable-" + Path.GetRandomFileName());
        void OnDisk(Fanfare.Emulator.Hosting.EmulatorOptions o) { o.InMemory = false; o.DataDirectory = dir; }
        try
        {
            string id;
            await using (var emu = await EmulatorServer.StartAsync(OnDisk))
            {
                var sk = HttpClientExtensions.Sk((await emu.DemoOrgAsync()).SecretKey);
                id = (await emu.Admin.PostRawAsync("/sequences", """{"name":"Gone after reset","priority":3}""", sk)).EnsureStatus(200)["id"].GetValue<string>();
                await emu.ResetAsync();
                Assert.Equal(404, (await emu.Admin.GetAsync($"/sequences/{id}", sk)).Code);
            }
            await using (var again = await EmulatorServer.StartAsync(OnDisk))
            {
                var sk = HttpClientExtensions.Sk((await again.DemoOrgAsync()).SecretKey);
                Assert.Equal(404, (await again.Admin.GetAsync($"/sequences/{id}", sk)).Code);
                Assert.NotEmpty((await again.Admin.GetAsync("/sequences", sk)).EnsureStatus(200)["data"]!.AsArray());
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
