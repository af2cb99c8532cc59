using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Control.Snapshots;

/// <summary>
/// Issue 17 §4: <c>PUT /_emulator/state</c> checks the whole snapshot before it changes anything (400
/// <c>validation_error</c>, state unchanged in memory and on disk), and a sandbox's snapshot replaces that sandbox only.
/// </summary>
public sealed class SnapshotImportTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly DateTimeOffset T0 = new(2031, 6, 1, 8, 0, 0, TimeSpan.Zero);

    private static string Edit(string snapshot, Action<JsonObject> edit)
    {
        var o = JsonNode.Parse(snapshot)!.AsObject();
        edit(o);
        return o.ToJsonString();
    }

    private static async Task AssertInvalidAsync(ApiResponse r, string messagePart)
    {
        Assert.Equal(400, r.Code);
        Assert.Equal("validation_error", r["error"].GetValue<string>());
        var issues = r["issues"].AsArray();
        Assert.NotEmpty(issues);
        Assert.Contains(issues, i => i!["message"]!.GetValue<string>().Contains(messagePart, StringComparison.Ordinal));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_bad_snapshot_is_a_400_with_its_issues_and_changes_nothing_in_memory_or_on_disk()
    {
        using var dir = SnapshotKit.TempDirectory();
        void OnDisk(Fanfare.Emulator.Hosting.EmulatorOptions o) { o.InMemory = false; o.DataDirectory = dir.Path; }
        string before, documentsBefore;
        await using (var disk = await EmulatorServer.StartAsync(OnDisk))
        {
            await disk.FreezeClockAsync(T0);
            var org = await disk.DemoOrgAsync();
            await disk.GuestAsync(org.PublishableKey);
            await disk.CreateSandboxAsync("bad-import", T0);
            before = await disk.ExportAsync();
            documentsBefore = JsonNode.Parse(before)!["documents"]!.ToJsonString();

            await AssertInvalidAsync(await disk.ImportAsync("{\"format\":"), "Malformed JSON");
            await AssertInvalidAsync(await disk.ImportAsync("[1,2]"), "Expected a snapshot object");
            await AssertInvalidAsync(await disk.ImportAsync(Edit(before, o => o["formatVersion"] = 99)), "Unsupported snapshot format version");
            await AssertInvalidAsync(await disk.ImportAsync(Edit(before, o => o.Remove("formatVersion"))), "Unsupported snapshot format version");
            // Everything else is valid: one document that does not deserialize is enough to refuse the whole import.
            var notADocument = Edit(before, o =>
            {
                o["documents"]!["test"]!["Consumer"]!.AsArray().Clear();
                o["documents"]!["test"]!["Consumer"]!.AsArray().Add(new JsonObject { ["id"] = "c1", ["createdAt"] = 12 });
            });
            var r = await disk.ImportAsync(notADocument);
            await AssertInvalidAsync(r, "Invalid Consumer");
            Assert.Equal(["documents", "test", "Consumer", "0"], r["issues"][0]!["path"]!.AsArray().Select(p => p!["key"]!.ToJsonString().Trim('"')));
            await AssertInvalidAsync(await disk.ImportAsync(Edit(before, o => o["documents"]!["test"]!["NoSuchKind"] = new JsonArray())), "Unknown document kind \"NoSuchKind\"");
            await AssertInvalidAsync(await disk.ImportAsync(Edit(before, o => o["documents"]!["shared"]!["Consumer"] = new JsonArray())), "belongs to a mode");
            await AssertInvalidAsync(await disk.ImportAsync(Edit(before, o => o["clock"]!["mode"] = "sideways")), "Invalid enum value");
            await AssertInvalidAsync(await disk.ImportAsync(Edit(before, o =>
            {
                var consumers = o["documents"]!["test"]!["Consumer"]!.AsArray();
                consumers.Add(consumers[0]!.DeepClone());
            })), "Duplicate Consumer id");

            Assert.Equal(before, await disk.ExportAsync()); // nothing changed in memory
        }
        // … nor on disk: the same documents after a restart on that directory
        await using (var again = await EmulatorServer.StartAsync(OnDisk))
            Assert.Equal(documentsBefore, JsonNode.Parse(await again.ExportAsync())!["documents"]!.ToJsonString());
    }

    [Fact]
    public async Task A_sandbox_snapshot_replaces_that_sandbox_only()
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(T0);
        var org = await emu.DemoOrgAsync();
        var a = await emu.CreateSandboxAsync("snap-a", T0.AddDays(1));
        var b = await emu.CreateSandboxAsync("snap-b", T0.AddDays(2));
        var (aId, bId) = (a["id"]!.GetValue<string>(), b["id"]!.GetValue<string>());
        var (ka, kb) = (SnapshotKit.Keys(a), SnapshotKit.Keys(b));
        var (_, aBefore, _) = await emu.GuestAsync(ka.PublishableKey);
        await emu.SandboxClockPostAsync(aId, "advance", new JsonObject { ["seconds"] = 60 });

        var snapshotA = await emu.ExportAsync(aId);
        var parsed = JsonNode.Parse(snapshotA)!;
        Assert.Equal("sandbox", parsed["scope"]!.GetValue<string>());
        Assert.Equal(aId, parsed["sandboxId"]!.GetValue<string>());
        Assert.Equal(T0.AddDays(1).AddSeconds(60), DateTimeOffset.Parse(parsed["clock"]!["frozenAt"]!.GetValue<string>()));
        Assert.Null(parsed["ids"]);
        Assert.Equal(aId, Assert.Single(parsed["documents"]!["shared"]!["Sandbox"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.All(parsed["documents"]!["shared"]!["Organization"]!.AsArray(), o => Assert.Contains(o!["id"]!.GetValue<string>(), a["organizations"]!.AsArray().Select(x => x!["organizationId"]!.GetValue<string>())));
        Assert.DoesNotContain(org.Id, snapshotA);
        Assert.DoesNotContain(kb.Id, snapshotA);

        // after the snapshot: activity in A, in B and in the default organizations
        var (_, aAfter, _) = await emu.GuestAsync(ka.PublishableKey);
        await emu.SandboxClockPostAsync(aId, "advance", new JsonObject { ["seconds"] = 3600 });
        var (_, bGuest, _) = await emu.GuestAsync(kb.PublishableKey);
        var (_, defaultGuest, _) = await emu.GuestAsync(org.PublishableKey);
        var snapshotB = await emu.ExportAsync(bId);

        var result = (await emu.ImportAsync(snapshotA)).EnsureStatus(200);
        Assert.Equal("sandbox", result["scope"].GetValue<string>());
        Assert.Equal(aId, result["sandboxId"].GetValue<string>());
        Assert.Equal(snapshotA, await emu.ExportAsync(aId));
        Assert.Equal(T0.AddDays(1).AddSeconds(60), DateTimeOffset.Parse((await emu.SandboxClockAsync(aId))["now"]!.GetValue<string>()));
        Assert.Equal(200, (await emu.Consumer.GetAsync("/consumers/me", Pk(ka.PublishableKey, aBefore))).Code);
        Assert.Equal(401, (await emu.Consumer.GetAsync("/consumers/me", Pk(ka.PublishableKey, aAfter))).Code); // made after the snapshot: gone
        // nothing else moved
        Assert.Equal(snapshotB, await emu.ExportAsync(bId));
        Assert.Equal(200, (await emu.Consumer.GetAsync("/consumers/me", Pk(kb.PublishableKey, bGuest))).Code);
        Assert.Equal(200, (await emu.Consumer.GetAsync("/consumers/me", Pk(org.PublishableKey, defaultGuest))).Code);
        Assert.Equal(T0, DateTimeOffset.Parse((await emu.Control.GetJsonAsync("/_emulator/clock"))["now"]!.GetValue<string>()));

        // a deleted sandbox comes back from its snapshot, keys and clock included
        Assert.Equal(204, (await emu.Control.SendAsync(HttpMethod.Delete, $"/_emulator/sandboxes/{aId}", null)).Code);
        (await emu.ImportAsync(snapshotA)).EnsureStatus(200);
        var back = await emu.Control.GetJsonAsync($"/_emulator/sandboxes/{aId}");
        Assert.Equal(ka.PublishableKey, SnapshotKit.Keys(back).PublishableKey);
        Assert.Equal("frozen", back["clock"]!["mode"]!.GetValue<string>());
        Assert.Equal(200, (await emu.Consumer.GetAsync("/consumers/me", Pk(ka.PublishableKey, aBefore))).Code);

        // a sandbox snapshot may hold only that sandbox's documents
        var foreign = Edit(snapshotA, o => o["documents"]!["test"]!["Consumer"]!.AsArray().Add(
            JsonNode.Parse(snapshotB)!["documents"]!["test"]!["Consumer"]![0]!.DeepClone()));
        var refused = await emu.ImportAsync(foreign);
        await AssertInvalidAsync(refused, "belongs to no organization of sandbox " + aId);
        Assert.Equal(snapshotA, await emu.ExportAsync(aId));
        Assert.Equal(404, (await emu.Control.GetAsync("/_emulator/state?sandboxId=sbx_nope", null)).Code);
    }
}
