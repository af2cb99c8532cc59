using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>A document kind of the tests only (the store finds document types by reflection over the given assemblies).</summary>
public sealed class ProbeDocument : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "org_probe";
    public double Priority { get; set; }
    public List<string> Tags { get; set; } = [];
    public JsonObject? Metadata { get; set; }
}

/// <summary>The LiteDB store: round trip, order, restart, and issue 9 §1 — a transaction that throws changes nothing.</summary>
public sealed class DocumentStoreTests : IDisposable
{
    private readonly StoreDirectory _files = new("fanfare-store-test-");

    private DocumentStore Open(bool inMemory = false) => inMemory ? StoreDirectory.OpenInMemory() : _files.Open();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Documents_round_trip_in_insertion_order_across_a_restart()
    {
        using (var store = Open())
        {
            foreach (var id in new[] { "c", "a", "b" })
                store.Put(new ProbeDocument { Id = id, Priority = 1.5, Tags = ["x", id], Metadata = new JsonObject { ["n"] = 12345678901L, ["price"] = 12.50m, ["odd key.$"] = "ü" } });
            store.Delete<ProbeDocument>("a");
            store.Put(new ProbeDocument { Id = "a", Priority = 2 });
            store.Put(new ProbeDocument { Id = "c", Priority = 3 }); // replacing keeps the place
        }
        Assert.True(File.Exists(Path.Combine(_files.Path, "emulator.db")));
        using (var store = Open())
        {
            Assert.Equal(["c", "b", "a"], store.All<ProbeDocument>().Select(d => d.Id));
            Assert.Equal(3, store.Get<ProbeDocument>("c")!.Priority);
            var b = store.Get<ProbeDocument>("b")!;
            Assert.Equal(["x", "b"], b.Tags);
            Assert.Equal(12345678901L, b.Metadata!["n"]!.GetValue<long>());
            Assert.Equal(12.5m, b.Metadata["price"]!.GetValue<decimal>());
            Assert.Equal("ü", b.Metadata["odd key.$"]!.GetValue<string>());
        }
    }

    /// <summary>Issue 15 (store-bound rows): the file holds no secondary index — nothing reads it by any field but
    /// <c>_id</c> — and a file an earlier build wrote with them (<c>organizationId</c> …) loses them at open, documents
    /// kept.</summary>
    [Fact]
    public void The_file_has_only_id_indexes_and_an_older_files_secondary_indexes_are_dropped_at_open()
    {
        static List<string> Indexes(string dir)
        {
            using var db = new LiteDB.LiteDatabase(new LiteDB.ConnectionString { Filename = Path.Combine(dir, "emulator.db"), Connection = LiteDB.ConnectionType.Direct });
            return db.GetCollection("$indexes").FindAll().Select(i => i["collection"].AsString + "." + i["name"].AsString).Order().ToList();
        }
        using (var store = Open()) store.Put(new ProbeDocument { Id = "a" });
        Assert.DoesNotContain(Indexes(_files.Path), i => !i.EndsWith("._id"));

        using (var db = new LiteDB.LiteDatabase(new LiteDB.ConnectionString { Filename = Path.Combine(_files.Path, "emulator.db"), Connection = LiteDB.ConnectionType.Direct }))
        {
            var col = db.GetCollection("ProbeDocument");
            col.EnsureIndex("organizationId", "$.organizationId");
            col.EnsureIndex("priority", "$.priority");
        }
        Assert.Contains("ProbeDocument.organizationId", Indexes(_files.Path));
        using (var store = Open())
        {
            Assert.Equal(["a"], store.All<ProbeDocument>().Select(d => d.Id));
            store.Put(new ProbeDocument { Id = "b" });
        }
        Assert.DoesNotContain(Indexes(_files.Path), i => !i.EndsWith("._id"));
        using (var store = Open()) Assert.Equal(["a", "b"], store.All<ProbeDocument>().Select(d => d.Id));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_transaction_that_throws_leaves_memory_and_file_as_they_were(bool inMemory)
    {
        ProbeDocument kept, deleted;
        using (var store = Open(inMemory))
        {
            store.Put(new ProbeDocument { Id = "first", Priority = 1 });
            kept = store.Put(new ProbeDocument { Id = "kept", Priority = 1, Tags = ["original"] });
            deleted = store.Put(new ProbeDocument { Id = "deleted", Priority = 1 });
            store.Put(new ProbeDocument { Id = "last", Priority = 1 });

            Assert.Throws<InvalidOperationException>(() => store.Transaction(() =>
            {
                var live = store.Get<ProbeDocument>("kept")!;
                live.Priority = 7;
                live.Tags.Add("changed");
                store.Put(live);
                store.Put(new ProbeDocument { Id = "inserted" });
                store.Delete<ProbeDocument>("deleted");
                foreach (var d in store.All<ProbeDocument>()) d.OrganizationId = "mutated without a put";
                throw new InvalidOperationException("engine failure");
            }));
            AssertIntact(store);
            Assert.Same(kept, store.Get<ProbeDocument>("kept")); // restored in place: engines' references stay valid
            Assert.Same(deleted, store.Get<ProbeDocument>("deleted"));

            // What the issue found: a value the file cannot hold (1e309 → ∞) fails the write after memory was changed.
            Assert.ThrowsAny<Exception>(() => store.Transaction(() =>
            {
                kept.Priority = double.PositiveInfinity;
                store.Put(kept);
            }));
            AssertIntact(store);

            // And the store still works afterwards.
            store.Transaction(() => { kept.Priority = 2; store.Put(kept); });
            Assert.Equal(2, store.Get<ProbeDocument>("kept")!.Priority);
        }
        if (inMemory) return;
        using (var reopened = Open())
        {
            Assert.Equal(["first", "kept", "deleted", "last"], reopened.All<ProbeDocument>().Select(d => d.Id));
            Assert.Equal(2, reopened.Get<ProbeDocument>("kept")!.Priority);
        }
    }

    [Fact]
    public void A_deliberate_client_error_keeps_what_the_engine_recorded()
    {
        using var store = Open(inMemory: true);
        var doc = store.Put(new ProbeDocument { Id = "session", Priority = 1 });
        Assert.Throws<Fanfare.Emulator.Infrastructure.Errors.ApiException>(() => store.Transaction(() =>
        {
            doc.Priority = 2; // e.g. refresh-token reuse revokes the session, then answers 401
            store.Put(doc);
            throw new Fanfare.Emulator.Infrastructure.Errors.ApiException(401, "invalid_refresh_token");
        }));
        Assert.Equal(2, store.Get<ProbeDocument>("session")!.Priority);
    }

    private static void AssertIntact(DocumentStore store)
    {
        Assert.Equal(["first", "kept", "deleted", "last"], store.All<ProbeDocument>().Select(d => d.Id));
        var kept = store.Get<ProbeDocument>("kept")!;
        Assert.Equal(1, kept.Priority);
        Assert.Equal(["original"], kept.Tags);
        Assert.All(store.All<ProbeDocument>(), d => Assert.Equal("org_probe", d.OrganizationId));
        Assert.Null(store.Get<ProbeDocument>("inserted"));
    }

    [Fact]
    public void A_data_directory_of_the_sqlite_version_is_refused_and_left_alone()
    {
        Directory.CreateDirectory(_files.Path);
        var file = Path.Combine(_files.Path, "emulator.db");
        var bytes = "SQLite format 3\0"u8.ToArray().Concat(new byte[4080]).ToArray();
        File.WriteAllBytes(file, bytes);
        var e = Assert.Throws<DataDirectoryException>(() => Open());
        Assert.Contains("SQLite", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    [Fact]
    public void Test_and_live_are_separate_partitions_and_shared_kinds_are_shared()
    {
        using var store = Open(inMemory: true);
        using (DocumentStore.UseMode(StoreModes.Test)) store.Put(new ProbeDocument { Id = "t" });
        using (DocumentStore.UseMode(StoreModes.Live))
        {
            store.Put(new ProbeDocument { Id = "l" });
            Assert.Null(store.Get<ProbeDocument>("t"));
            Assert.Equal(["l"], store.All<ProbeDocument>().Select(d => d.Id));
            Assert.False(store.Delete<ProbeDocument>("t"));
        }
        Assert.Equal(["t"], store.All<ProbeDocument>().Select(d => d.Id)); // test is the default
        Assert.Equal(StoreModes.Live, store.FindInAnyMode<ProbeDocument>("l")!.Value.Mode);
        store.Put(new Fanfare.Emulator.Organizations.Organization { Id = "org_shared" });
        using (DocumentStore.UseMode(StoreModes.Live))
            Assert.NotNull(store.Get<Fanfare.Emulator.Organizations.Organization>("org_shared"));
    }
}
