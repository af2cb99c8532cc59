using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Packaging;

public sealed partial class PublishedBinaryTests
{
    /// <summary>
    /// Issue 11 §1: the published emulator on a data directory, under a write load (guests entering a queue, admin
    /// creates), is killed with SIGKILL mid-load; restarted on the same directory it opens the file cleanly and has every
    /// write it acknowledged (2xx). Three times in a row, the acknowledged writes of every round checked each time.
    /// </summary>
    [Fact]
    public Task Every_acknowledged_write_survives_sigkill_three_times_in_a_row() => OnDataDirectoryAsync("fanfare-crash-", async (docker, publishDir, dataDir, processes) =>
    {
        var (ports, env) = LocalEnvironment(docker, dataDir, new() { ["Emulator__Banner"] = "false" });
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}"), Timeout = TimeSpan.FromSeconds(30) };
        using var consumer = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}"), Timeout = TimeSpan.FromSeconds(30) };

        var ackedSequences = new ConcurrentBag<string>();
        var ackedEntries = new ConcurrentBag<string>(); // consumer ids that entered the queue
        string? queueId = null;
        for (var round = 1; round <= 3; round++)
        {
            var emulator = Start(docker, publishDir, env, processes);
            await WaitHealthyAsync(admin, emulator); // the file opened cleanly (a corrupt one fails the start)
            var org = (await admin.GetJsonAsync("/_emulator/organizations"))["organizations"]![0]!;
            var sk = HttpClientExtensions.Sk(org["secretKey"]!.GetValue<string>());
            var pk = org["publishableKey"]!.GetValue<string>();

            // Everything acknowledged before the previous kill is there.
            foreach (var id in ackedSequences)
                Assert.True((await admin.GetAsync($"/sequences/{id}", sk)).Code == 200, $"round {round}: acknowledged sequence {id} lost");
            if (queueId is not null)
            {
                var listed = (await admin.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray()
                    .Select(p => p!["consumerId"]!.GetValue<string>()).ToHashSet();
                foreach (var c in ackedEntries) Assert.True(listed.Contains(c), $"round {round}: acknowledged queue entry of {c} lost");
            }
            else
            {
                var sequences = (await admin.GetJsonAsync("/sequences?first=100", sk))["data"]!.AsArray();
                queueId = (await admin.PostJsonAsync("/queues", new JsonObject
                {
                    ["sequenceId"] = sequences[0]!["id"]!.GetValue<string>(), ["name"] = "Crash queue", ["admitRate"] = 60,
                    ["admissionExpirationSeconds"] = 300, ["supportsGuest"] = true,
                }, sk)).EnsureStatus(200)["id"].GetValue<string>();
            }

            // Write load, then SIGKILL while it runs.
            using var stop = new CancellationTokenSource();
            var acknowledgedThisRound = 0;
            var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        if (w % 2 == 0)
                        {
                            var guest = await consumer.PostJsonAsync("/auth/guest", null, HttpClientExtensions.Pk(pk));
                            if (guest.Code != 200) continue;
                            var enter = await consumer.PostJsonAsync($"/queues/{queueId}/enter", null,
                                HttpClientExtensions.Pk(pk, guest["accessToken"].GetValue<string>()));
                            if (enter.Code is >= 200 and < 300)
                            {
                                ackedEntries.Add(guest["session"]["consumerId"].GetValue<string>());
                                Interlocked.Increment(ref acknowledgedThisRound);
                            }
                        }
                        else
                        {
                            var created = await admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = $"Crash r{round} w{w} #{i}" }, sk);
                            if (created.Code is >= 200 and < 300)
                            {
                                ackedSequences.Add(created["id"].GetValue<string>());
                                Interlocked.Increment(ref acknowledgedThisRound);
                            }
                        }
                    }
                    catch (Exception) when (stop.IsCancellationRequested || emulator.HasExited) { return; }
                    catch (HttpRequestException) { return; } // the process is gone
                    catch (TaskCanceledException) { return; }
                }
            })).ToList();

            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref acknowledgedThisRound) < 60 && waited.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(20);
            Assert.True(acknowledgedThisRound > 0, $"round {round}: no write was acknowledged:\n{emulator.Output}");
            emulator.Kill(); // SIGKILL, mid-load
            Assert.True(await emulator.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the emulator did not die on SIGKILL");
            stop.Cancel();
            await Task.WhenAll(workers);
            output.WriteLine($"round {round}: {acknowledgedThisRound} writes acknowledged before SIGKILL");
        }

        // A last start checks the third round's writes too.
        var last = Start(docker, publishDir, env, processes);
        await WaitHealthyAsync(admin, last);
        var skLast = HttpClientExtensions.Sk((await admin.GetJsonAsync("/_emulator/organizations"))["organizations"]![0]!["secretKey"]!.GetValue<string>());
        foreach (var id in ackedSequences)
            Assert.True((await admin.GetAsync($"/sequences/{id}", skLast)).Code == 200, $"acknowledged sequence {id} lost");
        var final = (await admin.GetJsonAsync($"/_emulator/distributions/{queueId}/participants"))["participants"]!.AsArray()
            .Select(p => p!["consumerId"]!.GetValue<string>()).ToHashSet();
        foreach (var c in ackedEntries) Assert.True(final.Contains(c), $"acknowledged queue entry of {c} lost");
    });

    /// <summary>
    /// Issues 11/15 (start-up and reset rows): killed with SIGKILL as soon as it is healthy on an empty data directory, the
    /// emulator restarts seeded with the same keys; <c>POST /_emulator/reset</c> is in the file when it answers, although
    /// its documents are written to their collections later (a reset image, <c>DocumentStore.ResetImage.cs</c>): killed
    /// right after a reset, it restarts to the reset state; killed right after a write that followed a reset, with both.
    /// </summary>
    [Fact]
    public Task The_start_up_seed_a_reset_and_the_write_after_it_survive_sigkill() => OnDataDirectoryAsync("fanfare-crash-reset-", async (docker, publishDir, dataDir, processes) =>
    {
        var (ports, env) = LocalEnvironment(docker, dataDir, new() { ["Emulator__Banner"] = "false" });
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}"), Timeout = TimeSpan.FromSeconds(30) };
        async Task<Dictionary<string, string>> SecretKey() =>
            HttpClientExtensions.Sk((await admin.GetJsonAsync("/_emulator/organizations"))["organizations"]![0]!["secretKey"]!.GetValue<string>());
        async Task<string> CreateSequence(Dictionary<string, string> sk, string name) =>
            (await admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = name }, sk)).EnsureStatus(200)["id"].GetValue<string>();
        async Task<List<string>> SequenceNames(Dictionary<string, string> sk) =>
            (await admin.GetJsonAsync("/sequences?first=100", sk))["data"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()).ToList();
        async Task Kill(ChildProcess p)
        {
            p.Kill(); // SIGKILL
            Assert.True(await p.WaitForExitAsync(TimeSpan.FromSeconds(20)), "the emulator did not die on SIGKILL");
        }

        // Killed as soon as it answers: the seed of the empty data directory may not be in the file yet (it is written
        // once the ports listen, DocumentStore.WrittenLater.cs); the next start has it either way, with the same keys.
        var zero = Start(docker, publishDir, env, processes);
        await WaitHealthyAsync(admin, zero);
        var keysBefore = (await SecretKey())["Authorization"];
        await Kill(zero);

        var first = Start(docker, publishDir, env, processes);
        await WaitHealthyAsync(admin, first);
        var sk = await SecretKey();
        Assert.Equal(keysBefore, sk["Authorization"]);
        var seeded = await SequenceNames(sk);
        var before = await CreateSequence(sk, "Created before the reset");
        Assert.Equal(200, (await admin.PostJsonAsync("/_emulator/reset", null)).Code);
        await Kill(first); // (within milliseconds: the reset's documents are most likely only in its image)

        var second = Start(docker, publishDir, env, processes);
        await WaitHealthyAsync(admin, second);
        sk = await SecretKey();
        Assert.Equal(seeded, await SequenceNames(sk));
        Assert.Equal(404, (await admin.GetAsync($"/sequences/{before}", sk)).Code);
        Assert.Equal(200, (await admin.PostJsonAsync("/_emulator/reset", null)).Code);
        var after = await CreateSequence(sk, "Created after the reset");
        await Kill(second);

        var third = Start(docker, publishDir, env, processes);
        await WaitHealthyAsync(admin, third);
        sk = await SecretKey();
        Assert.Equal(200, (await admin.GetAsync($"/sequences/{after}", sk)).Code);
        var names = await SequenceNames(sk);
        Assert.Contains("Created after the reset", names);
        Assert.Equal(seeded.Order(StringComparer.Ordinal), names.Where(n => n != "Created after the reset").Order(StringComparer.Ordinal));
    });

    /// <summary>Runs <paramref name="body"/> with the published build, an empty data directory in a temp folder and a list
    /// for the emulator processes it starts; on failure writes their output to the test log; always disposes them and
    /// deletes the folder.</summary>
    private async Task OnDataDirectoryAsync(string prefix, Func<DockerfileSpec, string, string, List<ChildProcess>, Task> body)
    {
        var root = DockerfileSpec.RepositoryRoot();
        var docker = DockerfileSpec.Load(Path.Combine(root, "Dockerfile"));
        var work = Directory.CreateTempSubdirectory(prefix);
        var dataDir = Directory.CreateDirectory(Path.Combine(work.FullName, "data")).FullName;
        var processes = new List<ChildProcess>();
        try
        {
            await body(docker, await PublishedAsync(root, docker), dataDir, processes);
        }
        catch
        {
            foreach (var p in processes) output.WriteLine($"--- emulator process {p.Id} output ---\n{p.Output}");
            throw;
        }
        finally
        {
            foreach (var p in processes) await p.DisposeAsync();
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>A data directory of the SQLite version: one line on stderr, a non-zero exit, the file untouched.</summary>
    [Fact]
    public async Task A_sqlite_data_directory_is_refused_with_one_line_and_left_alone()
    {
        var work = Directory.CreateTempSubdirectory("fanfare-legacy-");
        try
        {
            var file = Path.Combine(work.FullName, "emulator.db");
            var bytes = "SQLite format 3\0"u8.ToArray().Concat(new byte[4080]).ToArray();
            File.WriteAllBytes(file, bytes);
            var dll = typeof(Fanfare.Emulator.Hosting.EmulatorApp).Assembly.Location;
            var (code, text) = await ChildProcess.RunAsync(ChildProcess.DotnetHost(), [dll, "--data", work.FullName, "--Emulator:AdminPort=0"],
                work.FullName, ChildProcess.CleanEnvironment(), TimeSpan.FromSeconds(60));
            Assert.NotEqual(0, code);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("$ ")).ToArray(); // ChildProcess echoes the command
            Assert.Single(lines);
            Assert.Contains("SQLite", lines[0]);
            Assert.Equal(bytes, File.ReadAllBytes(file));
            Assert.Equal(["emulator.db"], work.GetFiles().Select(f => f.Name));
        }
        finally
        {
            try { work.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
