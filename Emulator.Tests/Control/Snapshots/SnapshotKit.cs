using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Control.Snapshots;

/// <summary>HTTP shortcuts for the snapshot tests: <c>GET|PUT /_emulator/state</c> with the body as raw text.</summary>
public static class SnapshotKit
{
    /// <summary><c>GET /_emulator/state[?sandboxId=…]</c> → the snapshot as the emulator wrote it (exact text).</summary>
    public static async Task<string> ExportAsync(this EmulatorServer emu, string? sandboxId = null) =>
        (await emu.Control.GetAsync("/_emulator/state" + (sandboxId is null ? "" : "?sandboxId=" + sandboxId), null)).EnsureStatus(200).Text;

    /// <summary><c>PUT /_emulator/state</c> with <paramref name="snapshot"/> as the body.</summary>
    public static Task<ApiResponse> ImportAsync(this EmulatorServer emu, string snapshot) =>
        emu.Control.SendAsync(HttpMethod.Put, "/_emulator/state", new StringContent(snapshot, Encoding.UTF8, "application/json"));

    /// <summary>Creates a sandbox from the default seed (frozen at <paramref name="frozenAt"/> when given).</summary>
    public static async Task<JsonNode> CreateSandboxAsync(this EmulatorServer emu, string name, DateTimeOffset? frozenAt = null)
    {
        var body = new JsonObject { ["name"] = name, ["seed"] = "default" };
        if (frozenAt is { } at) body["clock"] = new JsonObject { ["frozenAt"] = at.ToString("O") };
        return (await emu.Control.PostJsonAsync("/_emulator/sandboxes", body)).EnsureStatus(201).Json!;
    }

    /// <summary>The first organization of a sandbox (as <c>POST /_emulator/sandboxes</c> returns it).</summary>
    public static OrgKeys Keys(JsonNode sandbox)
    {
        var o = sandbox["organizations"]![0]!;
        string S(string k) => o[k]!.GetValue<string>();
        return new OrgKeys(S("organizationId"), S("name"), S("publishableKey"), S("secretKey"), S("webhookSecret"),
            S("customerTokenSecret"), S("livePublishableKey"), S("liveSecretKey"));
    }

    public static async Task<JsonNode> SandboxClockAsync(this EmulatorServer emu, string sandboxId) =>
        await emu.Control.GetJsonAsync($"/_emulator/sandboxes/{sandboxId}/clock");

    public static async Task<JsonNode> SandboxClockPostAsync(this EmulatorServer emu, string sandboxId, string verb, JsonObject? body = null) =>
        (await emu.Control.PostJsonAsync($"/_emulator/sandboxes/{sandboxId}/clock/{verb}", body ?? [])).EnsureStatus(200).Json!;

    /// <summary>A fresh temporary directory, deleted by the returned handle.</summary>
    public static TempDir TempDirectory() => new(Directory.CreateTempSubdirectory("fanfare-snapshot-").FullName);

    public sealed record TempDir(string Path) : IDisposable
    {
        public void Dispose()
        {
            try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
