using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Fanfare.Emulator.Bench;

/// <summary>A published emulator (<c>dotnet Fanfare.Emulator.dll</c>) started on four free loopback ports.</summary>
public sealed class EmulatorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _tail = new();
    private bool _ownsData;

    public int AdminPort { get; }
    public int Pid => _process.Id;

    /// <summary>CPU time the emulator process has used so far (user + system, from <c>/proc/PID/stat</c>), in ms; 0 where
    /// there is no procfs. The difference over a phase ÷ its operations is the CPU per operation, steadier than
    /// throughput on a shared machine.</summary>
    public double CpuMs() =>
        Stat() is { } f ? (long.Parse(f[11]) + long.Parse(f[12])) * 1000.0 / 100 : 0; // utime, stime in clock ticks (USER_HZ = 100)

    /// <summary>Minor page faults of the emulator process so far (<c>/proc/PID/stat</c> field 10, <c>minflt</c>: first touches
    /// of memory the process had not used yet), or 0 where there is no procfs. On this project's build machines (Firecracker
    /// microVMs) each one costs ≈ 20 µs (<see cref="PageFaults.Measure"/>), so a phase that grows the heap pays
    /// for it in the faults it takes.</summary>
    public long MinorFaults() => Stat() is { } f ? long.Parse(f[7]) : 0;

    /// <summary>The fields of <c>/proc/PID/stat</c> after the command name (index 0 = field 3, <c>state</c>), or null where
    /// there is no procfs.</summary>
    private string[]? Stat()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException) { return null; }
    }

    /// <summary>The store's counters from <c>GET /_emulator/info</c> (<c>store.transactions</c>: write transactions
    /// committed since start; <c>store.commits</c>: commits of the data file, each holding one or more transactions), or
    /// null for a build that does not report them (the SQLite store committed each transaction on its own).</summary>
    public async Task<(long Transactions, long Commits)?> StoreCountersAsync()
    {
        using var http = Client(AdminPort, 1);
        var store = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/_emulator/info"))?["store"];
        return store?["transactions"] is { } t && store["commits"] is { } c ? (t.GetValue<long>(), c.GetValue<long>()) : null;
    }

    public int ConsumerPort { get; }
    public int CheckoutPort { get; private init; }
    public string DataDirectory { get; }
    /// <summary>Milliseconds from spawning the process to the first 200 of <c>GET /_emulator/health</c>.</summary>
    public double StartToHealthyMs { get; private set; }

    private EmulatorProcess(Process process, int adminPort, int consumerPort, string dataDirectory)
    {
        _process = process; AdminPort = adminPort; ConsumerPort = consumerPort; DataDirectory = dataDirectory;
    }

    /// <summary>Spawns the emulator and returns once it is healthy. <paramref name="dataDirectory"/> null = a new temp folder.</summary>
    public static async Task<EmulatorProcess> StartAsync(BenchOptions options, string? dataDirectory = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("fanfare-bench-data-").FullName;
        var ports = FreePorts(4);
        // A framework-dependent build (`run.sh --jit`) runs as `dotnet Fanfare.Emulator.dll`; a native one (NativeAOT, the image's) as itself.
        var dll = options.EmulatorDll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var psi = new ProcessStartInfo(dll ? "dotnet" : options.EmulatorDll)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, WorkingDirectory = Path.GetDirectoryName(options.EmulatorDll)!,
        };
        if (dll) psi.ArgumentList.Add(options.EmulatorDll);
        if (options.InMemory) psi.ArgumentList.Add("--in-memory");
        psi.Environment["Emulator__BindAddress"] = "127.0.0.1";
        psi.Environment["Emulator__AdminPort"] = ports[0].ToString();
        psi.Environment["Emulator__ConsumerPort"] = ports[1].ToString();
        psi.Environment["Emulator__BeaconPort"] = ports[2].ToString();
        psi.Environment["Emulator__CheckoutPort"] = ports[3].ToString();
        psi.Environment["Emulator__DataDirectory"] = dataDirectory;
        psi.Environment["Emulator__Banner"] = "false";
        psi.Environment["ASPNETCORE_HTTP_PORTS"] = "";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        // For profiling the emulator only (not the bench): BENCH_EMULATOR_ENV="DOTNET_JitStdOutFile=/tmp/jit.txt;DOTNET_JitDisasmSummary=1".
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_EMULATOR_ENV") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            if (pair.Split('=', 2) is [var name, var value]) psi.Environment[name] = value;

        using var probe = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(2) };
        var url = $"http://127.0.0.1:{ports[0]}/_emulator/health";
        var watch = Stopwatch.StartNew();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var emu = new EmulatorProcess(process, ports[0], ports[1], dataDirectory) { _ownsData = owns, CheckoutPort = ports[3] };
        process.OutputDataReceived += (_, e) => emu.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => emu.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        while (true)
        {
            try
            {
                using var res = await probe.GetAsync(url);
                if (res.StatusCode == HttpStatusCode.OK) break;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited) throw new InvalidOperationException($"the emulator exited with {process.ExitCode}:\n{emu.Tail}");
            if (watch.Elapsed > TimeSpan.FromSeconds(120)) { await emu.DisposeAsync(); throw new TimeoutException("the emulator was not healthy within 120 s:\n" + emu.Tail); }
            await Task.Delay(5);
        }
        emu.StartToHealthyMs = watch.Elapsed.TotalMilliseconds;
        return emu;
    }

    /// <summary>Keeps the temp data folder this process created when it is disposed (to start again on it).</summary>
    public void KeepDataDirectory() => _ownsData = false;

    public string Tail { get { lock (_tail) return _tail.ToString(); } }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _tail.AppendLine(line);
            if (_tail.Length > 20_000) _tail.Remove(0, _tail.Length - 10_000);
        }
    }

    public HttpClient Client(int port, int maxConnections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = maxConnections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    public static int[] FreePorts(int n)
    {
        var listeners = Enumerable.Range(0, n).Select(_ => { var l = new TcpListener(IPAddress.Loopback, 0); l.Start(); return l; }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    public async ValueTask DisposeAsync()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
        _process.Dispose();
        if (_ownsData)
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
