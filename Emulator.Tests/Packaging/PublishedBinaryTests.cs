using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Fanfare.Emulator.Tests.Packaging;

/// <summary>
/// The Docker image without Docker: publishes the emulator with the Dockerfile's own <c>RUN dotnet publish</c> arguments,
/// starts the result as a separate process with the image's ENV / ENTRYPOINT (ports moved to free loopback ports, data in
/// a temp folder), probes it with the image's HEALTHCHECK command, runs the consumer sign-in flow over HTTP, stops it the
/// way <c>docker stop</c> does and checks the state survives a restart on the same data folder.
/// Filter: <c>--filter Category=Packaging</c> (or <c>Category!=Packaging</c> to skip it while iterating).
/// </summary>
[Trait("Category", "Packaging")]
public sealed partial class PublishedBinaryTests(ITestOutputHelper output)
{
    // NativeAOT (the Dockerfile's -p:PublishAot=true) compiles and links the whole program: minutes on a busy 2-core VM.
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Published_build_passes_its_healthcheck_signs_in_and_keeps_state_across_a_restart()
    {
        var root = DockerfileSpec.RepositoryRoot();
        var docker = DockerfileSpec.Load(Path.Combine(root, "Dockerfile"));
        var work = Directory.CreateTempSubdirectory("fanfare-packaging-");
        var dataDir = Directory.CreateDirectory(Path.Combine(work.FullName, "data")).FullName;
        var processes = new List<ChildProcess>();
        try
        {
            var publishDir = await PublishedAsync(root, docker);

            // The image runs the native executable the publish made (COPY --from=build /app into WORKDIR /app).
            Assert.True(File.Exists(LocalPath(docker.Entrypoint[0], publishDir)), $"{docker.Entrypoint[0]} is missing from the publish output");

            var (ports, env) = LocalEnvironment(docker, dataDir);
            using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}"), Timeout = TimeSpan.FromSeconds(30) };
            using var consumer = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}"), Timeout = TimeSpan.FromSeconds(30) };

            // The image's healthcheck fails while nothing listens …
            var (downCode, downOutput) = await HealthcheckAsync(docker, publishDir, env);
            Assert.True(downCode != 0, $"healthcheck exited 0 with no emulator running:\n{downOutput}");

            var first = Start(docker, publishDir, env, processes);
            await WaitHealthyAsync(admin, first);

            // … and passes once the emulator is up.
            var (upCode, upOutput) = await HealthcheckAsync(docker, publishDir, env);
            Assert.True(upCode == 0, $"healthcheck exited {upCode} with the emulator up:\n{upOutput}");

            var pk = (await admin.GetJsonAsync("/_emulator/organizations"))["organizations"]![0]!["publishableKey"]!.GetValue<string>();
            const string email = "packaging@fanfare.test";

            // guest → OTP (code from the fake inbox) → verify (upgrades the guest) → refresh → logout
            var guest = (await consumer.PostJsonAsync("/auth/guest", null, HttpClientExtensions.Pk(pk))).EnsureStatus(200);
            Assert.Equal("guest", guest["session"]["type"].GetValue<string>());
            var signedIn = await SignInAsync(admin, consumer, pk, email, guest["accessToken"].GetValue<string>());
            Assert.Equal("authenticated", signedIn["session"]["type"].GetValue<string>());
            Assert.Equal(email, signedIn["session"]["email"].GetValue<string>());
            var consumerId = signedIn["session"]["consumerId"].GetValue<string>();

            var refreshed = (await consumer.PostJsonAsync("/auth/refresh",
                new JsonObject { ["refreshToken"] = signedIn["refreshToken"].GetValue<string>() }, HttpClientExtensions.Pk(pk))).EnsureStatus(200);
            var refreshToken = refreshed["refreshToken"].GetValue<string>();
            Assert.NotEqual(signedIn["refreshToken"].GetValue<string>(), refreshToken);

            (await consumer.PostJsonAsync("/auth/logout", null, HttpClientExtensions.Pk(pk, refreshed["accessToken"].GetValue<string>()))).EnsureStatus(204);
            (await consumer.PostJsonAsync("/auth/refresh", new JsonObject { ["refreshToken"] = refreshToken }, HttpClientExtensions.Pk(pk))).EnsureStatus(401);

            // docker stop: SIGTERM, the process ends by itself.
            Assert.True(await first.StopAsync(TimeSpan.FromSeconds(20)), $"the emulator did not stop on SIGTERM within 20 s:\n{first.Output}");
            Assert.True(first.ExitCode == 0, $"the emulator exited {first.ExitCode} on SIGTERM:\n{first.Output}");

            // Restart on the same data folder: the consumer created by the OTP sign-in is still there, the logged-out
            // session is still revoked, and the keys are the same.
            var second = Start(docker, publishDir, env, processes);
            await WaitHealthyAsync(admin, second);
            var pkAfter = (await admin.GetJsonAsync("/_emulator/organizations"))["organizations"]![0]!["publishableKey"]!.GetValue<string>();
            Assert.Equal(pk, pkAfter);
            (await consumer.PostJsonAsync("/auth/refresh", new JsonObject { ["refreshToken"] = refreshToken }, HttpClientExtensions.Pk(pk))).EnsureStatus(401);

            (await admin.SendAsync(HttpMethod.Delete, $"/_emulator/inbox?to={Uri.EscapeDataString(email)}", null)).EnsureStatus(204);
            var again = await SignInAsync(admin, consumer, pk, email, guestAccessToken: null);
            Assert.Equal(consumerId, again["session"]["consumerId"].GetValue<string>());
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

    private static readonly SemaphoreSlim PublishGate = new(1, 1);
    private static string? _published;

    /// <summary>
    /// The Dockerfile's publish output, made once per test run and shared by this class's tests (they only read it; each
    /// keeps its data in a folder of its own): a NativeAOT publish takes minutes. Deleted when the test process exits.
    /// </summary>
    private async Task<string> PublishedAsync(string root, DockerfileSpec docker)
    {
        await PublishGate.WaitAsync();
        try
        {
            if (_published is not null) return _published;
            var dir = Directory.CreateTempSubdirectory("fanfare-publish-").FullName;
            await PublishAsync(root, docker, dir);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            };
            return _published = dir;
        }
        finally { PublishGate.Release(); }
    }

    /// <summary><c>dotnet publish …</c> exactly as the Dockerfile's build stage runs it, with the output folder replaced.</summary>
    private async Task PublishAsync(string root, DockerfileSpec docker, string publishDir)
    {
        var args = docker.PublishArguments.ToList();
        Assert.True(args.Count > 1 && args[0] == "publish", "the Dockerfile has no `RUN dotnet publish` line");
        var o = args.FindIndex(a => a is "-o" or "--output");
        Assert.True(o >= 0 && o + 1 < args.Count, "the Dockerfile's `dotnet publish` has no -o/--output");
        args[o + 1] = publishDir;

        // No build servers or node reuse: they would outlive the publish and keep its output pipes open.
        var env = ChildProcess.CleanEnvironment(new Dictionary<string, string>
        {
            ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0", ["UseSharedCompilation"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        });
        var (code, text) = await ChildProcess.RunAsync(ChildProcess.DotnetHost(), args, root, env, PublishTimeout);
        output.WriteLine(text);
        Assert.True(code == 0, $"dotnet {string.Join(' ', args)} exited {code}:\n{text}");
    }

    /// <summary>The image's <c>/app/…</c> path of a program (its WORKDIR, where the publish output is copied) as a path in
    /// <paramref name="publishDir"/>; <c>dotnet</c> (a framework-dependent build) is this machine's host.</summary>
    private static string LocalPath(string program, string publishDir)
    {
        if (program == "dotnet") return ChildProcess.DotnetHost();
        Assert.True(program.StartsWith("/app/", StringComparison.Ordinal), $"expected a program in the image's /app, got {program}");
        return Path.Combine(publishDir, program["/app/".Length..]);
    }

    private static ChildProcess Start(DockerfileSpec docker, string publishDir, Dictionary<string, string> env, List<ChildProcess> processes)
    {
        var entry = docker.Entrypoint;
        var p = ChildProcess.Start(LocalPath(entry[0], publishDir), entry[1..], publishDir, env);
        processes.Add(p);
        return p;
    }

    /// <summary>The Dockerfile's <c>HEALTHCHECK CMD</c>, run in the image's working directory (the publish folder).</summary>
    private static async Task<(int, string)> HealthcheckAsync(DockerfileSpec docker, string publishDir, Dictionary<string, string> env)
    {
        var cmd = docker.HealthcheckCommand;
        Assert.True(cmd.Length > 1 && cmd[^1] == "healthcheck", $"unexpected HEALTHCHECK command: {string.Join(' ', cmd)}");
        return await ChildProcess.RunAsync(LocalPath(cmd[0], publishDir), cmd[1..], publishDir, env, TimeSpan.FromSeconds(60));
    }

    private static async Task WaitHealthyAsync(HttpClient admin, ChildProcess process)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
                throw new Xunit.Sdk.XunitException($"the emulator exited with {process.ExitCode} before it was healthy:\n{process.Output}");
            try
            {
                using var res = await admin.GetAsync("/_emulator/health");
                if (res.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            if (waited.Elapsed > StartTimeout)
                throw new Xunit.Sdk.XunitException($"/_emulator/health did not answer 200 within {StartTimeout.TotalSeconds:0} s:\n{process.Output}");
            await Task.Delay(100);
        }
    }

    private static async Task<ApiResponse> SignInAsync(HttpClient admin, HttpClient consumer, string pk, string email, string? guestAccessToken)
    {
        (await consumer.PostJsonAsync("/auth/otp/request", new JsonObject { ["email"] = email }, HttpClientExtensions.Pk(pk))).EnsureStatus(200);
        var message = await admin.GetJsonAsync($"/_emulator/inbox/latest?to={Uri.EscapeDataString(email)}&waitSeconds=10");
        var code = message["code"]!.GetValue<string>();
        return (await consumer.PostJsonAsync("/auth/otp/verify", new JsonObject { ["email"] = email, ["code"] = code },
            HttpClientExtensions.Pk(pk, guestAccessToken))).EnsureStatus(200);
    }

    /// <summary>The image's environment for a process on this machine: four free loopback ports (admin, consumer, beacon,
    /// checkout) and <paramref name="dataDir"/>, plus <paramref name="extra"/>.</summary>
    private static (int[] Ports, Dictionary<string, string> Env) LocalEnvironment(DockerfileSpec docker, string dataDir,
        Dictionary<string, string>? extra = null)
    {
        var ports = FreePorts(4);
        var env = ChildProcess.CleanEnvironment(docker.Env, new Dictionary<string, string>
        {
            ["Emulator__BindAddress"] = "127.0.0.1",
            ["Emulator__AdminPort"] = ports[0].ToString(), ["Emulator__ConsumerPort"] = ports[1].ToString(),
            ["Emulator__BeaconPort"] = ports[2].ToString(), ["Emulator__CheckoutPort"] = ports[3].ToString(),
            ["Emulator__DataDirectory"] = dataDir,
        }, extra ?? []);
        return (ports, env);
    }

    private static int[] FreePorts(int n)
    {
        var listeners = Enumerable.Range(0, n).Select(_ => { var l = new TcpListener(IPAddress.Loopback, 0); l.Start(); return l; }).ToList();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
