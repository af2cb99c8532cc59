using Fanfare.Emulator.Infrastructure.Store;
using LiteDB;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>
/// Issue 15 (start-up row): the seed of an empty store is written to the file after the emulator serves, or by the next
/// transaction before it runs, or at the stop. A "crash" is a copy of the data file and LiteDB's log taken while the store
/// is open (what SIGKILL leaves on disk).
/// </summary>
public sealed class WrittenLaterTests : IDisposable
{
    private readonly StoreDirectory _files = new("fanfare-written-later-");

    private DocumentStore Open(string? dir = null) => _files.Open(dir);

    private string CrashCopy() => _files.CrashCopy();

    public void Dispose() => _files.Dispose();

    private static void Seed(DocumentStore store) => store.TransactionWrittenLater(() =>
    {
        for (var i = 0; i < 3; i++) store.Put(new ProbeDocument { Id = $"seed{i}", Priority = i });
    });

    private static List<string> Ids(DocumentStore store) => store.All<ProbeDocument>().Select(d => d.Id).ToList();

    [Fact]
    public void The_seed_is_in_memory_at_once_and_in_the_file_once_persisted()
    {
        using var store = Open();
        Seed(store);
        Assert.Equal(["seed0", "seed1", "seed2"], Ids(store));
        Assert.True(store.HasWriteLater);
        using (var crashed = Open(CrashCopy()))
            Assert.True(crashed.IsEmpty); // killed before: an empty file, which the next start seeds again
        store.PersistWrittenLater();
        Assert.False(store.HasWriteLater);
        using var persisted = Open(CrashCopy());
        Assert.Equal(["seed0", "seed1", "seed2"], Ids(persisted));
    }

    [Fact]
    public void The_next_transaction_writes_the_seed_first()
    {
        using var store = Open();
        Seed(store);
        store.Transaction(() =>
        {
            var seed1 = store.Get<ProbeDocument>("seed1")!;
            seed1.Priority = 10;
            store.Put(seed1);
            store.Put(new ProbeDocument { Id = "later" });
        });
        Assert.False(store.HasWriteLater);
        using var crashed = Open(CrashCopy());
        Assert.Equal(["seed0", "seed1", "seed2", "later"], Ids(crashed));
        Assert.Equal(10, crashed.Get<ProbeDocument>("seed1")!.Priority);
    }

    [Fact]
    public void A_transaction_that_fails_after_the_seed_rolls_back_only_itself()
    {
        using var store = Open();
        Seed(store);
        Assert.Throws<InvalidOperationException>(() => store.Transaction(() =>
        {
            store.Get<ProbeDocument>("seed0")!.Priority = 99;
            store.Delete<ProbeDocument>("seed2");
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal(["seed0", "seed1", "seed2"], Ids(store));
        Assert.Equal(0, store.Get<ProbeDocument>("seed0")!.Priority);
        using var crashed = Open(CrashCopy());
        Assert.Equal(["seed0", "seed1", "seed2"], Ids(crashed));
    }

    [Fact]
    public void A_stop_writes_the_seed_and_only_an_empty_store_defers()
    {
        using (var store = Open())
        {
            Seed(store);
            Assert.Throws<InvalidOperationException>(() => store.TransactionWrittenLater(() => store.Put(new ProbeDocument { Id = "x" })));
        }
        using var reopened = Open();
        Assert.Equal(["seed0", "seed1", "seed2"], Ids(reopened));
    }

    [Fact]
    public void A_seed_LiteDB_refuses_empties_the_store_again_and_throws()
    {
        using var store = Open();
        store.TransactionWrittenLater(() => store.Put(new ProbeDocument { Id = new string('x', 2000) }));
        Assert.Throws<IOException>(store.PersistWrittenLater);
        Assert.True(store.IsEmpty);
        store.Put(new ProbeDocument { Id = "next" });
        Assert.Equal(["next"], Ids(store));
    }
}
