using Fanfare.Emulator.Infrastructure.Store;
using LiteDB;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>
/// Issues 11/15 (reset row): a clearing transaction (a reset, a state import) is committed as one reset image and its
/// documents are written to their collections later (idle, the next commit, the stop). Whatever moment the process dies
/// at, the file reopens to the last acknowledged state: a "crash" here is a copy of the data file and LiteDB's log taken
/// while the store is open (what SIGKILL leaves on disk), reopened by a second store.
/// </summary>
public sealed class ResetImageTests : IDisposable
{
    private readonly StoreDirectory _files = new("fanfare-reset-image-");

    /// <summary>A store that materializes images only when told, by a commit or by its stop (no 50 ms timing in the tests).</summary>
    private DocumentStore Open(string? dir = null)
    {
        var store = _files.Open(dir);
        store.MaterializeWhenIdle = false;
        return store;
    }

    private string CrashCopy() => _files.CrashCopy();

    public void Dispose() => _files.Dispose();

    private static void Reset(DocumentStore store, string prefix, int count) => store.Transaction(() =>
    {
        store.Clear();
        for (var i = 0; i < count; i++) store.Put(new ProbeDocument { Id = $"{prefix}{i}", Priority = i });
    });

    private static List<string> Ids(DocumentStore store) => store.All<ProbeDocument>().Select(d => d.Id).ToList();

    /// <summary>What the file's collections hold, read with LiteDB alone (no image applied).</summary>
    private static List<string> FileIds(string dir, string collection)
    {
        using var db = new LiteDatabase(new ConnectionString { Filename = Path.Combine(dir, "emulator.db"), Connection = ConnectionType.Direct });
        return db.GetCollection(collection).FindAll().OrderBy(d => d["_seq"].AsInt64).Select(d => d["_id"].AsString).ToList();
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var waited = 0; !condition() && waited < 30_000; waited += 20) await Task.Delay(20);
        Assert.True(condition());
    }

    [Fact]
    public void A_reset_is_one_image_until_materialized_and_a_crash_before_that_reopens_to_the_reset_state()
    {
        using var store = Open();
        for (var i = 0; i < 5; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
        Reset(store, "seed", 3);
        Assert.True(store.HasResetImage());
        Assert.Equal(["seed0", "seed1", "seed2"], Ids(store));

        var crashed = CrashCopy();
        // The collection still holds the state before the reset: the image is what counts.
        Assert.Equal(["old0", "old1", "old2", "old3", "old4"], FileIds(crashed, nameof(ProbeDocument)));
        using (var reopened = Open(crashed))
        {
            Assert.Equal(["seed0", "seed1", "seed2"], Ids(reopened));
            Assert.Equal([0.0, 1, 2], reopened.All<ProbeDocument>().Select(d => d.Priority));
            Assert.False(reopened.HasResetImage()); // written to the collections when the file opened
        }
        Assert.Equal(["seed0", "seed1", "seed2"], FileIds(crashed, nameof(ProbeDocument)));
    }

    [Fact]
    public void The_next_commit_writes_the_image_first_in_the_same_transaction()
    {
        using var store = Open();
        for (var i = 0; i < 5; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
        Reset(store, "seed", 3);
        store.Put(new ProbeDocument { Id = "after" });
        store.Delete<ProbeDocument>("seed1");
        Assert.False(store.HasResetImage());
        var crashed = CrashCopy();
        Assert.Equal(["seed0", "seed2", "after"], FileIds(crashed, nameof(ProbeDocument)));
        using var reopened = Open(crashed);
        Assert.Equal(["seed0", "seed2", "after"], Ids(reopened));
    }

    [Fact]
    public async Task An_idle_store_materializes_the_image_in_the_background()
    {
        using var store = _files.Open();
        store.Put(new ProbeDocument { Id = "old" });
        var commits = store.FileCommits;
        Reset(store, "seed", 2);
        Assert.Equal(commits + 1, store.FileCommits);
        await Eventually(() => !store.HasResetImage());
        Assert.Equal(commits + 1, store.FileCommits); // background housekeeping, as the clean-up of old generations
        Assert.Equal(["seed0", "seed1"], FileIds(CrashCopy(), nameof(ProbeDocument)));
        Assert.Equal(["seed0", "seed1"], Ids(store));
    }

    [Fact]
    public void Resets_back_to_back_keep_every_delete_of_the_earlier_ones()
    {
        using (var store = Open())
        {
            for (var i = 0; i < 5; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
            Reset(store, "a", 4); // deletes old0..4
            Reset(store, "b", 1); // deletes a0..a3
            Reset(store, "a", 2); // deletes b0; a0, a1 again
            Assert.Equal(["a0", "a1"], Ids(store));
            var crashed = CrashCopy();
            using (var reopened = Open(crashed))
                Assert.Equal(["a0", "a1"], Ids(reopened));
            store.MaterializeNow();
            Assert.False(store.HasResetImage());
            Assert.Equal(["a0", "a1"], FileIds(CrashCopy(), nameof(ProbeDocument)));
        }
        using var again = Open();
        Assert.Equal(["a0", "a1"], Ids(again));
    }

    [Fact]
    public void A_switching_reset_image_survives_a_crash_and_a_stop_materializes()
    {
        using (var store = Open())
        {
            for (var i = 0; i < 600; i++) store.Put(new ProbeDocument { Id = $"old{i}" });
            Reset(store, "seed", 2); // deletes 600: a new generation
            Assert.True(store.HasResetImage());
            using (var reopened = Open(CrashCopy()))
            {
                Assert.Equal(["seed0", "seed1"], Ids(reopened));
                reopened.Put(new ProbeDocument { Id = "later" });
            }
        }
        // The graceful stop wrote the image's documents to the new generation's collection.
        Assert.Equal(["seed0", "seed1"], FileIds(_files.Path, "ProbeDocument_1"));
        using var again = Open();
        Assert.Equal(["seed0", "seed1"], Ids(again));
    }

    [Fact]
    public void A_transaction_rolled_back_after_a_reset_restores_the_reset_state_not_the_stale_file()
    {
        using var store = Open();
        for (var i = 0; i < 3; i++) store.Put(new ProbeDocument { Id = $"old{i}", Priority = 10 + i });
        Reset(store, "old", 2); // same ids, new values: the file's collection still has the old ones
        Assert.True(store.HasResetImage());
        Assert.Throws<InvalidOperationException>(() => store.Transaction(() =>
        {
            store.Get<ProbeDocument>("old0")!.Priority = 99;
            store.All<ProbeDocument>(); // (the whole kind is restored)
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal(["old0", "old1"], Ids(store));
        Assert.Equal([0.0, 1], store.All<ProbeDocument>().Select(d => d.Priority));
    }

    /// <summary>A reset whose documents LiteDB would refuse (an <c>_id</c> index key over 1,023 bytes) is not committed as
    /// an image (whose materialization would then fail every later commit): it fails as any transaction LiteDB refuses,
    /// rolled back, and the store goes on.</summary>
    [Fact]
    public void A_reset_holding_a_key_LiteDB_refuses_fails_and_later_writes_still_commit()
    {
        using var store = Open();
        store.Put(new ProbeDocument { Id = "old" });
        Assert.Throws<IOException>(() => store.Transaction(() =>
        {
            store.Clear();
            store.Put(new ProbeDocument { Id = new string('x', 2000) });
        }));
        Assert.False(store.HasResetImage());
        Assert.Equal(["old"], Ids(store));
        store.Put(new ProbeDocument { Id = "next" });
        Assert.Equal(["old", "next"], Ids(store));
        using var reopened = Open(CrashCopy());
        Assert.Equal(["old", "next"], Ids(reopened));
    }

    /// <summary>A long value in a field that is not a key (no secondary index in the file) is no reason to refuse an image:
    /// the reset is an image, materialized, and reopens as written.</summary>
    [Fact]
    public void A_reset_holding_a_long_organization_id_is_an_image_and_materializes()
    {
        using var store = Open();
        store.MaterializeWhenIdle = false;
        store.Put(new ProbeDocument { Id = "old" });
        var organization = new string('o', 2000);
        store.Transaction(() =>
        {
            store.Clear();
            store.Put(new ProbeDocument { Id = "long", OrganizationId = organization });
        });
        Assert.True(store.HasResetImage());
        store.MaterializeNow();
        Assert.False(store.HasResetImage());
        using var reopened = Open(CrashCopy());
        Assert.Equal(["long"], Ids(reopened));
        Assert.Equal(organization, reopened.Get<ProbeDocument>("long")!.OrganizationId);
    }

    /// <summary>A reset image that creates a collection the file did not have (the kind's first documents), recovered at
    /// the next start: a later update of one of its documents is an update, not a second insert of the same id.</summary>
    [Fact]
    public void A_recovered_image_that_created_a_collection_takes_updates_of_its_documents()
    {
        string crashed;
        using (var store = Open())
        {
            store.MaterializeWhenIdle = false;
            Reset(store, "seed", 2); // (the file had no ProbeDocument collection)
            crashed = CrashCopy();
        }
        using (var reopened = Open(crashed))
        {
            var doc = reopened.Get<ProbeDocument>("seed0")!;
            reopened.Transaction(() =>
            {
                doc.Priority = 7;
                reopened.Put(doc);
            });
            reopened.Put(new ProbeDocument { Id = "next" });
        }
        using var third = Open(crashed);
        Assert.Equal(["seed0", "seed1", "next"], Ids(third));
        Assert.Equal(7, third.Get<ProbeDocument>("seed0")!.Priority);
    }

    [Fact]
    public void The_in_memory_store_uses_images_too()
    {
        using var store = StoreDirectory.OpenInMemory();
        store.MaterializeWhenIdle = false;
        store.Put(new ProbeDocument { Id = "old" });
        Reset(store, "seed", 2);
        Assert.True(store.HasResetImage());
        store.Put(new ProbeDocument { Id = "x" });
        Assert.False(store.HasResetImage());
        Assert.Equal(["seed0", "seed1", "x"], Ids(store));
    }
}
