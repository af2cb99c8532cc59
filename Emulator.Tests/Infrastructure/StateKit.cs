using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EmulatorJson = Fanfare.Emulator.Infrastructure.Json;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary>
/// Test fixtures read from and put into an emulator through its control plane's snapshot (<c>GET</c> and <c>PUT
/// /_emulator/state</c>, README "Snapshots") instead of its in-process services, so a test that uses them runs the same
/// against the in-process emulator and against a published build (<c>FANFARE_TEST_EMULATOR</c>, the NativeAOT executable
/// the image ships). Synchronous (<see cref="HttpClient.Send(HttpRequestMessage)"/>), like the store calls they replace.
/// </summary>
public static class StateKit
{
    /// <summary>Adds <paramref name="documents"/> (test mode) to the emulator's state: export, add, import. The import
    /// is a whole-state replace, so call it while nothing else talks to the emulator (a fixture's set-up).</summary>
    public static void PutDocuments(this EmulatorServer emu, params IDocument[] documents)
    {
        var state = State(emu);
        var test = state["documents"]![StoreModes.Test] as JsonObject ?? throw new InvalidOperationException("no test partition in the snapshot");
        foreach (var doc in documents)
        {
            var kind = KindOf(doc.GetType());
            if (test[kind] is not JsonArray list) test[kind] = list = [];
            list.Add(JsonSerializer.SerializeToNode(doc, doc.GetType(), EmulatorJson.StoreOptions));
        }
        using var put = new HttpRequestMessage(HttpMethod.Put, "/_emulator/state")
        {
            Content = new StringContent(state.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        using var res = emu.Control.Send(put);
        if (!res.IsSuccessStatusCode)
            throw new InvalidOperationException($"PUT /_emulator/state answered {(int)res.StatusCode}: {new StreamReader(res.Content.ReadAsStream()).ReadToEnd()}");
    }

    /// <summary>Every document of type <typeparamref name="T"/> in the emulator (all partitions), in snapshot order.</summary>
    public static List<T> Documents<T>(this EmulatorServer emu) where T : class, IDocument
    {
        var kind = KindOf(typeof(T));
        var docs = new List<T>();
        foreach (var (_, partition) in State(emu)["documents"]!.AsObject())
            if (partition?[kind] is JsonArray list)
                docs.AddRange(list.Select(d => d.Deserialize<T>(EmulatorJson.StoreOptions)!));
        return docs;
    }

    private static JsonObject State(EmulatorServer emu)
    {
        using var res = emu.Control.Send(new HttpRequestMessage(HttpMethod.Get, "/_emulator/state"));
        res.EnsureSuccessStatusCode();
        return JsonNode.Parse(res.Content.ReadAsStream())!.AsObject();
    }

    private static string KindOf(Type t) => t.GetCustomAttribute<DocumentKindAttribute>()?.Kind ?? t.Name;
}
