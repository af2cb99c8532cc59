using Fanfare.Emulator.Infrastructure.Store;
using LiteDB;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>
/// Issues 11/15 (reset row): the next generation's collections are created ahead, empty, so a
/// reset that switches generation only inserts; they survive a restart while unused, and anything else of another
/// generation is cleaned up.
/// </summary>
public sealed class PreparedGenerationTests : IDisposable
{
    private readonly StoreDirectory _files = new("fanfare-prepared-gen-");

    private DocumentStore Open() => _files.Open();

    public void Dispose() => _files.Dispose();

    private static void SwitchingReset(DocumentStore store, string prefix, int count) => store.Transaction(() =>
    {
        store.Clear();
        for (var i = 0; i < count; i++) store.Put(new ProbeDocument { Id = $"{prefix}{i}", Priority = i });
    });

    private static async Task Eventually(Func<bool> condition)
    {
        for (var waited = 0; !condition() && waited < 30_000; waited += 50) await Task.Delay(50);
        Assert.True(condition());
    }

    private List<string> CollectionNames()
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = Path.Combine(_files.Path, "emulator.db"), Connection = ConnectionType.Direct });
        return db.GetCollectionNames().Where(n => n.StartsWith("ProbeDocument", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task A_switching_reset_uses_the_prepared_generation_and_the_file_reopens_to_the_reset_state()
    {
        using (var store = Open())
        {
            // A new collection (the store started empty) gets its next generation prepared once the store is idle.
            for (var i = 0; i < 600; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
            await Eventually(() => store.PreparedCount() > 0);
            SwitchingReset(store, "seed", 3);
            Assert.True(store.HasResetImage()); // committed as one image (ResetImageTests); its documents are written next
            store.MaterializeNow();
            Assert.Equal(0, store.PreparedCount()); // written into: no longer an empty, prepared collection
            Assert.Equal(["seed0", "seed1", "seed2"], store.All<ProbeDocument>().Select(d => d.Id));
            // The old generation is dropped and the one after the new one prepared, in the background once idle.
            await Eventually(() => store.StaleCollectionCount() == 0 && store.PreparedCount() > 0);
        }
        Assert.Equal(["ProbeDocument_1", "ProbeDocument_2"], CollectionNames()); // current + prepared (empty)
        using (var reopened = Open())
        {
            Assert.Equal(["seed0", "seed1", "seed2"], reopened.All<ProbeDocument>().Select(d => d.Id));
            Assert.Equal(0, reopened.StaleCollectionCount()); // a prepared generation is not stale
            SwitchingReset(reopened, "again", 300); // (in place: it deletes only 3)
            SwitchingReset(reopened, "last", 2); // (deletes 300: a switch again, to generation 2)
        }
        using (var third = Open())
            Assert.Equal(["last0", "last1"], third.All<ProbeDocument>().Select(d => d.Id));
        Assert.Contains("ProbeDocument_2", CollectionNames());
    }

    [Fact]
    public async Task Collections_of_other_generations_are_cleaned_up_and_a_next_generation_holding_documents_is_never_used()
    {
        using (var store = Open())
        {
            for (var i = 0; i < 600; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
            Assert.True(store.PrepareNext() > 0);
        }
        // Left in the file by something else than this store: a next generation with a document in it (abandoned) and a
        // far generation.
        using (var db = new LiteDatabase(new ConnectionString { Filename = Path.Combine(_files.Path, "emulator.db"), Connection = ConnectionType.Direct }))
        {
            db.GetCollection("ProbeDocument_1").Insert(new BsonDocument { ["_id"] = "junk", ["_seq"] = 1L, ["id"] = "junk" });
            db.GetCollection("ProbeDocument_7").Insert(new BsonDocument { ["_id"] = "far", ["_seq"] = 1L, ["id"] = "far" });
        }
        using (var store = Open())
        {
            Assert.Equal(600, store.Count<ProbeDocument>());
            SwitchingReset(store, "seed", 2); // (most likely before the clean-up, which waits for the store to be idle)
            Assert.Equal(["seed0", "seed1"], store.All<ProbeDocument>().Select(d => d.Id));
            await Eventually(() => store.StaleCollectionCount() == 0);
        }
        using (var reopened = Open())
            Assert.Equal(["seed0", "seed1"], reopened.All<ProbeDocument>().Select(d => d.Id));
        Assert.DoesNotContain("ProbeDocument_7", CollectionNames());
    }

    [Fact]
    public void The_in_memory_store_prepares_and_switches_too()
    {
        using var store = StoreDirectory.OpenInMemory();
        for (var i = 0; i < 600; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
        store.PrepareNext();
        SwitchingReset(store, "seed", 2);
        Assert.Equal(["seed0", "seed1"], store.All<ProbeDocument>().Select(d => d.Id));
    }
}
