using System.Net;
using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// One container of the emulator image, driven with the <c>docker</c> CLI: <c>docker run -d</c> with its ports published
/// to random loopback ports (re-read after a restart), waits for the image's own HEALTHCHECK to say <c>healthy</c>,
/// and removes the container (and the named volume it created) on dispose.
/// </summary>
public sealed class EmulatorContainer : IAsyncDisposable
{
    public static readonly TimeSpan HealthyTimeout = TimeSpan.FromSeconds(150);

    public string Name { get; }
    public string? Volume { get; }
    private readonly int[] _containerPorts;
    private readonly Dictionary<int, int> _hostPorts = [];
    private readonly List<HttpClient> _clients = [];

    private EmulatorContainer(string name, string? volume, int[] containerPorts)
    {
        Name = name;
        Volume = volume;
        _containerPorts = containerPorts;
    }

    /// <summary>
    /// <c>docker run -d</c> of <see cref="DockerEngine.Image" /> with a fresh named volume on <c>/data</c> (unless
    /// <paramref name="volume" /> is false), <paramref name="ports" /> (default: the image's four) published on random
    /// 127.0.0.1 ports and <paramref name="extra" /> arguments before the image name.
    /// </summary>
    public static EmulatorContainer Run(int[]? ports = null, bool volume = true, params string[] extra)
    {
        DockerEngine.Require();
        var id = Guid.NewGuid().ToString("N")[..10];
        var name = $"fanfare-test-{id}";
        string? vol = volume ? $"fanfare-test-data-{id}" : null;
        ports ??= [4800, 4802, 4803, 4805];
        var args = new List<string> { "run", "-d", "--name", name, "--label", "fanfare.test=1" };
        if (vol is not null) args.AddRange(["-v", $"{vol}:/data"]);
        foreach (var p in ports) args.AddRange(["-p", $"127.0.0.1::{p}"]);
        args.AddRange(extra);
        args.Add(DockerEngine.Image);
        var c = new EmulatorContainer(name, vol, ports);
        DockerEngine.Run([.. args]);
        c.ReadPorts();
        return c;
    }

    public string Inspect(string format) => DockerEngine.Run("inspect", "--format", format, Name);

    public string Logs() => DockerEngine.TryRun("logs", Name).Output;

    public Uri Address(int containerPort) => new($"http://127.0.0.1:{_hostPorts[containerPort]}/");

    public HttpClient Client(int containerPort)
    {
        var client = new HttpClient { BaseAddress = Address(containerPort), Timeout = TimeSpan.FromSeconds(60) };
        _clients.Add(client);
        return client;
    }

    public void ReadPorts()
    {
        foreach (var p in _containerPorts)
        {
            var mapping = DockerEngine.Run("port", Name, $"{p}/tcp").Split('\n')[0].Trim(); // 127.0.0.1:49153
            _hostPorts[p] = int.Parse(mapping[(mapping.LastIndexOf(':') + 1)..]);
        }
    }

    /// <summary>Waits until Docker reports the image's HEALTHCHECK <c>healthy</c>; fails with the logs if the container
    /// exits or turns <c>unhealthy</c> first.</summary>
    public async Task WaitHealthyAsync()
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var state = Inspect("{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}").Split(' ');
            if (state[1] == "healthy") return;
            if (state[0] is "exited" or "dead" || state[1] == "unhealthy" || waited.Elapsed > HealthyTimeout)
                throw new Xunit.Sdk.XunitException($"container {Name} is {state[0]}/{state[1]} after {waited.Elapsed.TotalSeconds:0} s, not healthy:\n{Logs()}");
            await Task.Delay(500);
        }
    }

    /// <summary>Waits for the container to exit on its own; its exit code.</summary>
    public int WaitExit() => int.Parse(DockerEngine.Run("wait", Name).Trim());

    /// <summary>The admin port's organizations (<c>GET /_emulator/organizations</c>).</summary>
    public static async Task<JsonArray> OrganizationsAsync(HttpClient admin)
    {
        using var res = await admin.GetAsync("/_emulator/organizations");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return JsonNode.Parse(await res.Content.ReadAsStringAsync())!["organizations"]!.AsArray();
    }

    public ValueTask DisposeAsync()
    {
        foreach (var c in _clients) c.Dispose();
        DockerEngine.TryRun("rm", "-f", "-v", Name);
        if (Volume is not null) DockerEngine.TryRun("volume", "rm", "-f", Volume);
        return ValueTask.CompletedTask;
    }
}
