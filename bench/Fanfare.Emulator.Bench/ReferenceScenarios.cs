using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fanfare.Emulator.Bench;

/// <summary>
/// The bare-Kestrel reference (<c>bench/Reference</c>, published next to the emulator by <c>run.sh</c>): one
/// minimal-API route, <c>GET /json</c>. Every ratio of the issue-15 table divides by a figure of this process measured in
/// the same bench run.
/// </summary>
public sealed class ReferenceProcess : IAsyncDisposable
{
    private readonly Process _process;
    public int Port { get; }
    public double StartToHealthyMs { get; private set; }
    public string Url => $"http://127.0.0.1:{Port}/json";
    public int Pid => _process.Id;

    private ReferenceProcess(Process p, int port) { _process = p; Port = port; }

    public static async Task<ReferenceProcess> StartAsync(BenchOptions o)
    {
        if (o.ReferenceDll is null || !File.Exists(o.ReferenceDll))
            throw new InvalidOperationException($"--reference: no bare-Kestrel reference dll ('{o.ReferenceDll}'); run through bench/run.sh");
        var port = EmulatorProcess.FreePorts(1)[0];
        // A framework-dependent reference (run.sh's) runs as `dotnet Fanfare.Bench.Reference.dll`; a native one (a NativeAOT
        // publish of bench/Reference, for comparison: bench/README.md "NativeAOT in the image") as itself.
        var dll = o.ReferenceDll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var psi = new ProcessStartInfo(dll ? "dotnet" : o.ReferenceDll)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(o.ReferenceDll)!,
        };
        if (dll) psi.ArgumentList.Add(o.ReferenceDll);
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["ASPNETCORE_HTTP_PORTS"] = "";
        using var probe = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) }) { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the reference");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        var r = new ReferenceProcess(process, port);
        while (true)
        {
            try
            {
                using var res = await probe.GetAsync(r.Url);
                if (res.StatusCode == HttpStatusCode.OK) break;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (process.HasExited) throw new InvalidOperationException($"the reference exited with {process.ExitCode}");
            if (watch.Elapsed > TimeSpan.FromSeconds(60)) { await r.DisposeAsync(); throw new TimeoutException("the reference was not up within 60 s"); }
            await Task.Delay(5);
        }
        r.StartToHealthyMs = watch.Elapsed.TotalMilliseconds;
        return r;
    }

    public async ValueTask DisposeAsync()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
        _process.Dispose();
    }
}

/// <summary>Runs <c>wrk</c> (Debian's <c>/usr/bin/wrk</c>) and parses requests/s, latency and non-2xx answers.</summary>
public static class Wrk
{
    public sealed record Result(double RequestsPerSecond, long Requests, long Non2xx, long SocketErrors, string Latency50, string Latency99)
    {
        public string Detail => $"{Requests} requests, p50 {Latency50}, p99 {Latency99}" +
                                (Non2xx > 0 ? $", NON-2XX {Non2xx}" : "") + (SocketErrors > 0 ? $", socket errors {SocketErrors}" : "");
    }

    public static string Path => File.Exists("/usr/bin/wrk") ? "/usr/bin/wrk" : "wrk";

    public static async Task<Result> RunAsync(BenchOptions o, string url, params (string Name, string Value)[] headers)
    {
        var psi = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-t", o.WrkThreads.ToString(CultureInfo.InvariantCulture), "-c", o.WrkConnections.ToString(CultureInfo.InvariantCulture),
                     "-d", $"{o.WrkSeconds}s", "--latency" })
            psi.ArgumentList.Add(a);
        foreach (var (n, v) in headers) { psi.ArgumentList.Add("-H"); psi.ArgumentList.Add($"{n}: {v}"); }
        psi.ArgumentList.Add(url);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { throw new InvalidOperationException("wrk is not installed (apt-get install -y wrk)"); }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        var text = await stdout;
        if (p.ExitCode != 0) throw new InvalidOperationException($"wrk exited {p.ExitCode}: {await stderr}{text}");
        double rps = double.Parse(Regex.Match(text, @"Requests/sec:\s*([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        long reqs = long.Parse(Regex.Match(text, @"(\d+) requests in").Groups[1].Value, CultureInfo.InvariantCulture);
        var non2xx = Regex.Match(text, @"Non-2xx or 3xx responses:\s*(\d+)");
        var sock = Regex.Matches(text, @"(connect|read|write|timeout) (\d+)").Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        string Pct(string q) => Regex.Match(text, $@"\s{q}%\s+([\d.]+\w+)").Groups[1].Value;
        return new(rps, reqs, non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0, sock, Pct("50"), Pct("99"));
    }
}

/// <summary>Resident set size of a process (Linux <c>/proc/PID/status</c> VmRSS), in MB.</summary>
public static class Rss
{
    public static double Megabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        if (line is null) return double.NaN;
        return long.Parse(Regex.Match(line, @"(\d+)").Value, CultureInfo.InvariantCulture) / 1024.0;
    }
}

/// <summary>
/// <c>kestrel</c>: the issue-15 table (bench/README.md) in one run. The bare-Kestrel reference and the published emulator
/// alternate: reference start-up and <c>wrk</c> on <c>GET /json</c>, then each emulator row, each followed by the reference
/// again, so each ratio divides by the mean of the reference figures taken just before and just after it. Rows:
/// <c>GET /health</c>; <c>GET /queues/{id}/status</c> and <c>GET /consumers/me</c> with one guest's access token (the
/// seeded queue); <c>GET /experiences/{id}</c> with the publishable key only; start to healthy (median of
/// <c>--runs</c>, both processes); RSS a second after start (default seed, no requests but the probe).
/// </summary>
public sealed class KestrelRatioScenario : IScenario
{
    public string Name => "kestrel";
    public string Description => "the issue-15 rows as ratios to a bare-Kestrel minimal-API JSON route (wrk, same run)";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var o = context.Options;
        var rows = new List<Row>();

        // Start-up: alternate the two processes so both see the same machine load.
        var refStart = new List<double>();
        var emuStart = new List<double>();
        var refRss = new List<double>();
        var emuRss = new List<double>();
        for (int i = 0; i < o.StartupRuns; i++)
        {
            await using (var r = await ReferenceProcess.StartAsync(o))
            {
                refStart.Add(r.StartToHealthyMs);
                await Task.Delay(1000);
                refRss.Add(Rss.Megabytes(r.Pid));
            }
            await using (var e = await EmulatorProcess.StartAsync(o))
            {
                emuStart.Add(e.StartToHealthyMs);
                await Task.Delay(1000);
                emuRss.Add(Rss.Megabytes(e.Pid));
            }
        }
        var refStartMs = Stats.Median(refStart);
        var emuStartMs = Stats.Median(emuStart);

        // Throughput on the shared emulator: one guest, the seeded queue, the seeded experience.
        var emu = await context.SharedAsync();
        var pk = await context.PublishableKeyAsync();
        using var admin = emu.Client(emu.AdminPort, 2);
        using var consumer = emu.Client(emu.ConsumerPort, 2);
        var sk = JsonNode.Parse(await admin.GetStringAsync("/_emulator/organizations"))!["organizations"]![0]!["secretKey"]!.GetValue<string>();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", sk);
        var queueId = ((JsonArray)(await Http.SendJsonAsync(admin, HttpMethod.Get, "/api/queues?first=100", null))["data"]!)
            .Select(q => q!["id"]!.GetValue<string>()).FirstOrDefault() ?? throw new InvalidOperationException("the seed has no queue");
        var experienceId = ((JsonArray)(await Http.SendJsonAsync(admin, HttpMethod.Get, "/api/experiences?first=100", null))["data"]!)
            .Select(q => q!["id"]!.GetValue<string>()).FirstOrDefault() ?? throw new InvalidOperationException("the seed has no experience");
        using var guestReq = new HttpRequestMessage(HttpMethod.Post, "/auth/guest");
        guestReq.Headers.Add("X-Publishable-Key", pk);
        using var guestRes = await consumer.SendAsync(guestReq);
        var token = JsonNode.Parse(await guestRes.Content.ReadAsStringAsync())!["accessToken"]!.GetValue<string>();
        // The access token must outlive the run (15 min by default; the shared emulator's clock runs in real time).

        var baseUrl = $"http://127.0.0.1:{emu.ConsumerPort}";
        var targets = new (string Metric, string Url, (string, string)[] Headers, double Target)[]
        {
            ("GET /health", baseUrl + "/health", [], 0.8),
            ("GET /queues/{id}/status, consumer access token", $"{baseUrl}/queues/{queueId}/status",
                [("X-Publishable-Key", pk), ("Authorization", "Bearer " + token)], 0.5),
            ("GET /consumers/me, consumer access token", baseUrl + "/consumers/me",
                [("X-Publishable-Key", pk), ("Authorization", "Bearer " + token)], 0.5),
            ("GET /experiences/{id}, publishable key only", $"{baseUrl}/experiences/{experienceId}", [("X-Publishable-Key", pk)], 0.6),
        };

        await using var reference = await ReferenceProcess.StartAsync(o);
        // Warm both up (JIT, tiering): short untimed wrk runs.
        var warm = new BenchOptions(o) { WrkSeconds = Math.Max(1, o.WrkSeconds / 2) };
        await Wrk.RunAsync(warm, reference.Url);
        foreach (var t in targets) await Wrk.RunAsync(warm, t.Url, t.Headers);

        var before = await Wrk.RunAsync(o, reference.Url);
        var refAll = new List<double> { before.RequestsPerSecond };
        rows.Add(new(Name, "bare Kestrel GET /json", before.RequestsPerSecond, "req/s", before.Detail));
        var ratios = new List<Row>();
        foreach (var t in targets)
        {
            var r = await Wrk.RunAsync(o, t.Url, t.Headers);
            var after = await Wrk.RunAsync(o, reference.Url);
            refAll.Add(after.RequestsPerSecond);
            var refMean = (before.RequestsPerSecond + after.RequestsPerSecond) / 2;
            rows.Add(new(Name, t.Metric, r.RequestsPerSecond, "req/s", r.Detail));
            ratios.Add(new(Name, $"ratio: {t.Metric}", r.RequestsPerSecond / refMean, "× Kestrel",
                $"target ≥ {t.Target}× ({Verdict(r.RequestsPerSecond / refMean >= t.Target && r.Non2xx == 0)}); reference {refMean:0} req/s around it"));
            before = after;
        }
        rows.Add(new(Name, "bare Kestrel GET /json (all runs)", refAll.Average(), "req/s", $"n={refAll.Count}, min {refAll.Min():0}, max {refAll.Max():0}"));
        rows.Add(new(Name, "start to healthy, bare Kestrel", refStartMs, "ms", Stats.Spread(refStart)));
        rows.Add(new(Name, "start to healthy, emulator (empty data dir)", emuStartMs, "ms", Stats.Spread(emuStart)));
        rows.Add(new(Name, "RSS after start, bare Kestrel", Stats.Median(refRss), "MB", Stats.Spread(refRss)));
        rows.Add(new(Name, "RSS after start, emulator (default seed)", Stats.Median(emuRss), "MB",
            $"target ≤ 80 MB ({Verdict(Stats.Median(emuRss) <= 80)}); {Stats.Spread(emuRss)}"));
        rows.AddRange(ratios);
        rows.Add(new(Name, "ratio: start to healthy", emuStartMs / refStartMs, "× Kestrel", $"target ≤ 1.5× ({Verdict(emuStartMs / refStartMs <= 1.5)})"));
        return rows;
    }

    private static string Verdict(bool ok) => ok ? "met" : "NOT met";
}

/// <summary>
/// <c>reset-after-consumers</c>: <c>POST /_emulator/reset</c> on the queue scenarios' emulator, after it created
/// <c>--queue-consumers</c> guests (and their queue entries): the first reset (which drops them all) and the median of the
/// next ones. Uses the queue up.
/// </summary>
public sealed class ResetAfterConsumersScenario : IScenario
{
    public string Name => "reset-after-consumers";
    public string Description => "POST /_emulator/reset after --queue-consumers guests were created";

    public async Task<IReadOnlyList<Row>> RunAsync(BenchContext context)
    {
        var q = await context.QueueAsync(usedUpIsFine: true);
        try
        {
            using var admin = q.Emulator.Client(q.Emulator.AdminPort, 1);
            admin.Timeout = TimeSpan.FromMinutes(5);
            // The connection is opened (and the client's code run) before the timed request, as for every other row: the
            // row is the reset's round trip, not a TCP connect.
            using (var open = await admin.GetAsync("/_emulator/health")) open.EnsureSuccessStatusCode();
            var faultsBefore = q.Emulator.MinorFaults();
            var first = await ResetScenario.TimeAsync(admin);
            var faults = q.Emulator.MinorFaults() - faultsBefore;
            var rest = new List<(double Client, double Server)>();
            for (int i = 0; i < Math.Min(10, context.Options.Resets); i++) rest.Add(await ResetScenario.TimeAsync(admin));
            return
            [
                new(Name, $"first reset after {q.Count} consumers (client round trip)", first.Client, "ms", $"server durationMs {first.Server:0.0}; {faults} minor page faults; target ≤ 5 ms"),
                new(Name, "next resets (client round trip, median)", Stats.Median(rest.Select(r => r.Client)), "ms", $"server median {Stats.Median(rest.Select(r => r.Server)):0.0} ms"),
            ];
        }
        finally
        {
            await context.ReleaseQueueAsync();
        }
    }
}
