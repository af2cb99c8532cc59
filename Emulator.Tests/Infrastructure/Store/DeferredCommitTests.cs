using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>
/// Issues 11/15 (queue-entry row): a request's transactions do not block a thread until their group commit is in the
/// file — they are queued and the request awaits them before it answers (<see cref="DocumentStore.DeferCommits"/>) — and a
/// document a transaction creates is written with an insert. What a caller is told was written is in the file either way.
/// </summary>
public sealed class DeferredCommitTests : IDisposable
{
    private readonly StoreDirectory _files = new("fanfare-deferred-commit-");

    private DocumentStore Open() => _files.Open();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Deferred_transactions_from_concurrent_requests_are_all_in_the_file_once_awaited()
    {
        const int requests = 24, each = 20;
        using (var store = Open())
        {
            store.Put(new ProbeDocument { Id = "counter" });
            await Task.WhenAll(Enumerable.Range(0, requests).Select(r => Task.Run(async () =>
            {
                var scope = store.DeferCommits();
                for (var i = 0; i < each; i++)
                    store.Transaction(() =>
                    {
                        var counter = store.Get<ProbeDocument>("counter")!;
                        counter.Priority++;
                        store.Put(counter);
                        store.Put(new ProbeDocument { Id = $"r{r}-{i}", Priority = counter.Priority });
                    });
                await scope.WhenCommittedAsync();
                scope.Close();
            })));
            Assert.Equal(requests * each, store.Get<ProbeDocument>("counter")!.Priority);
        }
        using var reopened = Open();
        Assert.Equal(requests * each, reopened.Get<ProbeDocument>("counter")!.Priority);
        var docs = reopened.All<ProbeDocument>().Where(d => d.Id != "counter").ToList();
        Assert.Equal(Enumerable.Range(1, requests * each).Select(i => (double)i), docs.Select(d => d.Priority));
    }

    [Fact]
    public async Task A_deferred_write_the_file_refuses_is_rolled_back_and_its_error_reaches_the_request()
    {
        using (var store = Open())
        {
            store.Put(new ProbeDocument { Id = "kept", Priority = 1 });
            var scope = store.DeferCommits();
            store.Transaction(() =>
            {
                store.Get<ProbeDocument>("kept")!.Priority = 2;
                store.Put(store.Get<ProbeDocument>("kept")!);
                store.Put(new ProbeDocument { Id = new string('x', 2000) }); // LiteDB refuses index keys over 1023 bytes
            });
            // Queued, not yet refused: memory shows the transaction's writes until its commit fails.
            var error = await Assert.ThrowsAsync<IOException>(scope.WhenCommittedAsync);
            Assert.Contains("could not write", error.Message);
            scope.Close();
            Assert.Equal(1, store.Get<ProbeDocument>("kept")!.Priority);
            Assert.Null(store.Get<ProbeDocument>(new string('x', 2000)));

            // After the scope is closed, transactions of this flow wait for their own commits again (and throw at once).
            Assert.Throws<IOException>(() => store.Put(new ProbeDocument { Id = new string('y', 2000) }));
            store.Put(new ProbeDocument { Id = "after", Priority = 3 });
        }
        using var reopened = Open();
        Assert.Equal(["kept", "after"], reopened.All<ProbeDocument>().Select(d => d.Id));
        Assert.Equal(1, reopened.Get<ProbeDocument>("kept")!.Priority);
    }

    [Fact]
    public async Task Created_updated_deleted_and_recreated_documents_in_one_batch_are_in_the_file_as_memory_holds_them()
    {
        using (var store = Open())
        {
            store.Put(new ProbeDocument { Id = "old", Priority = 1 });
            var scope = store.DeferCommits();
            store.Put(new ProbeDocument { Id = "x", Priority = 1 });          // insert …
            store.Put(new ProbeDocument { Id = "x", Priority = 2 });          // … then an update in a later transaction
            store.Delete<ProbeDocument>("x");
            store.Put(new ProbeDocument { Id = "x", Priority = 4 });          // re-created after a delete
            store.Transaction(() =>
            {
                store.Put(new ProbeDocument { Id = "ghost" });                 // created and deleted in one transaction:
                store.Delete<ProbeDocument>("ghost");                          // never written
                store.Delete<ProbeDocument>("old");                            // a stored one deleted …
                store.Put(new ProbeDocument { Id = "old", Priority = 5 });     // … and put back in the same transaction
            });
            store.Transaction(() =>
            {
                store.Put(new ProbeDocument { Id = "twice", Priority = 6 });   // created, deleted, created again
                store.Delete<ProbeDocument>("twice");
                store.Put(new ProbeDocument { Id = "twice", Priority = 7 });
            });
            await scope.WhenCommittedAsync();
            scope.Close();
        }
        using var reopened = Open();
        Assert.Equal(5, reopened.Get<ProbeDocument>("old")!.Priority);
        Assert.Equal(4, reopened.Get<ProbeDocument>("x")!.Priority);
        Assert.Equal(7, reopened.Get<ProbeDocument>("twice")!.Priority);
        Assert.Null(reopened.Get<ProbeDocument>("ghost"));
        Assert.Equal(3, reopened.Count<ProbeDocument>());
    }
}

/// <summary>
/// Issue 15 (queue-entry row): a read cache that names the document kinds it reads (<c>StoreReadCache(dependsOn: …)</c>,
/// the credential caches) stays valid across writes of other kinds — a queue entry no longer makes every request resolve
/// its key and session under the store lock — and is recomputed after a write of its kind, a reset or a rollback.
/// </summary>
public sealed class KindStampTests
{
    private sealed class OtherDocument : IDocument
    {
        public string Id { get; set; } = "";
    }

    [Fact]
    public void A_cache_of_one_kind_survives_writes_of_other_kinds_and_not_of_its_own_a_reset_or_a_rollback()
    {
        using var store = StoreDirectory.OpenInMemory();
        var computed = 0;
        var perKind = new StoreReadCache<string, double?>(store, dependsOn: typeof(ProbeDocument));
        var global = new StoreReadCache<string, double?>(store);
        double? Read(StoreReadCache<string, double?> cache) => cache.Get("p", () => { computed++; return store.Get<ProbeDocument>("p")?.Priority; });

        store.Put(new ProbeDocument { Id = "p", Priority = 1 });
        Assert.Equal(1, Read(perKind));
        Assert.Equal(1, Read(global));
        computed = 0;

        store.Put(new OtherDocument { Id = "o1" });                       // another kind: the per-kind cache still holds
        Assert.Equal(1, Read(perKind));
        Assert.Equal(0, computed);
        Assert.Equal(1, Read(global));                                   // (the global one recomputes on any write)
        Assert.Equal(1, computed);

        store.Put(new ProbeDocument { Id = "p", Priority = 2 });          // its kind: recomputed on the next read
        Assert.Equal(2, Read(perKind));
        store.Put(new ProbeDocument { Id = "q", Priority = 9 });          // any document of its kind counts
        computed = 0;
        Assert.Equal(2, Read(perKind));
        Assert.Equal(1, computed);

        Assert.Throws<InvalidOperationException>(() => store.Transaction(() =>
        {
            store.Put(new OtherDocument { Id = "o2" });
            throw new InvalidOperationException("rolled back");
        }));
        computed = 0;
        Assert.Equal(2, Read(perKind));                                  // a rollback: recomputed
        Assert.Equal(1, computed);

        store.Transaction(() =>                                          // a reset (Clear) that writes only another kind
        {
            store.Clear();
            store.Put(new OtherDocument { Id = "o3" });
        });
        Assert.Null(Read(perKind));
    }
}
