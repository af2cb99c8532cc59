using System.Net;
using Fanfare.Emulator.Auth.Tokens;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;
using Fanfare.Emulator.Control;

namespace Fanfare.Emulator.Hosting;

/// <summary>Builds the one process that serves all four APIs and the control plane.</summary>
public static class EmulatorApp
{
    /// <summary>
    /// Creates the host. <paramref name="configure"/> lets tests override options (ports, in-memory store) after
    /// configuration binding. <paramref name="args"/> are configuration arguments (<c>--Emulator:Key=value</c>); the user's
    /// flags are parsed by <see cref="EmulatorCommandLine"/>. Throws <see cref="EmulatorStartupException"/> for a bad value.
    /// </summary>
    public static WebApplication Build(string[] args, Action<EmulatorOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        // No appsettings reload: its file watcher covers the content root and everything below it, so with the default
        // data folder (.emulator-data) under it every LiteDB write would wake it (and start-up would walk the tree).
        // The slim builder (issue 15, bench/README.md "branch boot5"): the same configuration sources (appsettings*.json,
        // environment, arguments), console logging, Kestrel and routing, without what the emulator does not use and
        // CreateBuilder loads at start: IIS integration, HTTP/3 (QUIC), the HTTPS configuration of Kestrel endpoints
        // (the emulator listens on plain HTTP on its own ports), hosting-startup assemblies, the Debug and EventSource
        // logging providers, regex route constraints (none here), and the TypeConverter-based reading of
        // reloadConfigOnChange.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"] });
        StartupTimeline.Mark("create-builder");
        var options = new EmulatorOptions();
        try { builder.Configuration.GetSection(EmulatorOptions.Section).Bind(options); }
        catch (InvalidOperationException e)
        {
            // "Failed to convert configuration value 'abc' at 'Emulator:AdminPort' to type 'System.Int32'."
            var parts = e.Message.Split('\'');
            var (value, key, type) = parts.Length >= 6 ? (parts[1], parts[3], parts[5].Replace("System.", "")) : ("?", EmulatorOptions.Section, "?");
            throw new EmulatorStartupException($"{key}: \"{value}\" is not a valid {(type is "Int32" or "Double" ? "number" : type)}", e);
        }
        configure?.Invoke(options);
        Validate(options);
        // Start-up (issue 15, bench/README.md): work the seed needs anyway runs on pool threads while the host is built:
        // opening the store (LiteDB, the document types) and loading the phone numbering plans (libphonenumber). The
        // first user waits for it (a failure surfaces there, as the same exception).
        var storeOpening = Task.Run(() => DocumentStore.Open(options.InMemory, options.DataDirectory));
        _ = Task.Run(() => System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(Auth.PhoneNumbers).TypeHandle));
        try { return Build(builder, options, storeOpening, services); }
        catch
        {
            // Not handed to the container (which disposes it with the app): close the file here.
            storeOpening.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw;
        }
    }

    private static WebApplication Build(WebApplicationBuilder builder, EmulatorOptions options, Task<DocumentStore> storeOpening,
        Action<IServiceCollection>? services)
    {
        builder.WebHost.ConfigureKestrel(k =>
        {
            var ip = IPAddress.Parse(options.BindAddress);
            foreach (var port in new[] { options.AdminPort, options.ConsumerPort, options.BeaconPort, options.CheckoutPort }.Distinct())
                k.Listen(ip, port);
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Start-up failures (port in use …) are reported as one line by the command line, not as a logged stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        // No "Application started / is shutting down…", environment or content-root lines: the banner says what matters,
        // and a start that fails stays the one line the command line prints (the host's "shutting down" line, written by
        // the logger's own thread, could land in the output before it: ContainerLifecycleTests, seen once in CI).
        builder.Services.Configure<Microsoft.Extensions.Hosting.ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        var modules = FeatureModules.Discover();
        StartupTimeline.Mark("modules-discovered");
        var s = builder.Services;
        s.AddSingleton(options);
        s.AddSingleton<IEnumerable<IFeatureModule>>(modules);
        s.AddSingleton<EmulatorState>();
        s.AddSingleton<EmulatorClock>();
        s.AddSingleton<TimeProvider>(sp => sp.GetRequiredService<EmulatorClock>());
        s.AddSingleton<OrganizationClocks>();
        s.AddSingleton<ClockResolver>();
        s.AddSingleton(_ => storeOpening.GetAwaiter().GetResult());
        s.AddSingleton<IdGenerator>();
        s.AddSingleton<Scheduler>();
        s.AddHostedService<SchedulerPump>();
        s.AddSingleton<EventOutbox>();
        s.AddSingleton<OrganizationDirectory>();
        s.AddSingleton<SeedLoader>();
        s.AddSingleton<TokenService>();
        s.AddSingleton<EmulatorReset>();
        s.AddHostedService<StartupSeeder>();
        s.AddCors();
        s.AddSingleton<EmulatorCorsPolicyProvider>();
        s.AddSingleton<Microsoft.AspNetCore.Cors.Infrastructure.ICorsPolicyProvider>(sp => sp.GetRequiredService<EmulatorCorsPolicyProvider>());
        s.ConfigureHttpJsonOptions(o => Json.ConfigureHttp(o.SerializerOptions));
        // Query/route binding failures (e.g. ?waitSeconds=abc) throw, so ErrorHandlingMiddleware answers the std 400.
        s.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        foreach (var m in modules) m.AddServices(s, options);
        services?.Invoke(s);

        StartupTimeline.Mark("services-added");
        var app = builder.Build();
        StartupTimeline.Mark("host-built");
        // Browsers: a frontend on another localhost port calls the APIs with custom headers (X-Publishable-Key …), which
        // needs CORS preflights answered. First in the pipeline so error bodies (401, 503 …) are readable too.
        // Loopback origins, plus Emulator:CorsOrigins (EmulatorCorsPolicyProvider).
        app.UseCors();
        app.UseMiddleware<OriginGuardMiddleware>();
        app.UseMiddleware<ApiSurfaceMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        foreach (var m in modules) m.UsePipeline(app);
        app.UseRouting();

        // /openapi/{documentName}.json and the Scalar reference: set up on their first request (Hosting/OpenApiDocuments.cs).
        OpenApiDocuments.Map(app, builder.Services);
        var routes = new EmulatorRoutes(
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Admin)).WithTags("Admin API"),
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Consumer)).WithTags("Consumer API"),
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Beacon)).WithTags("Beacon API"),
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Checkout)).WithTags("Checkout API"),
            app.MapGroup("/_emulator").WithTags("Emulator control plane"),
            app);
        foreach (var m in modules) m.MapEndpoints(routes);
        // A plain RequestDelegate (no parameter binding, nothing for the Request Delegate Generator to intercept).
        // Not {*path:nonfile}: /x.json is a JSON 404 too.
        app.MapFallback("{*path}", static ctx => ApiErrors.Result(404, ApiErrors.NotFound).ExecuteAsync(ctx)).ExcludeFromDescription();
        StartupTimeline.Mark("endpoints-mapped");
        return app;
    }

    /// <summary>Checks what binding cannot: ports, the bind address, the seed file (made absolute).</summary>
    private static void Validate(EmulatorOptions o)
    {
        foreach (var (name, port) in new[] { ("AdminPort", o.AdminPort), ("ConsumerPort", o.ConsumerPort), ("BeaconPort", o.BeaconPort), ("CheckoutPort", o.CheckoutPort), ("SmtpPort", o.SmtpPort) })
            if (port < 0 || port > 65535) throw new EmulatorStartupException($"{EmulatorOptions.Section}:{name}: {port} is not a port (1-65535)");
        if (!IPAddress.TryParse(o.BindAddress, out _))
            throw new EmulatorStartupException($"{EmulatorOptions.Section}:BindAddress: \"{o.BindAddress}\" is not an IP address (127.0.0.1, 0.0.0.0, ::1 …)");
        if (!string.IsNullOrWhiteSpace(o.SeedFile))
        {
            o.SeedFile = Path.GetFullPath(o.SeedFile);
            if (!File.Exists(o.SeedFile)) throw new EmulatorStartupException($"seed file not found: {o.SeedFile}");
        }
        if (!string.IsNullOrWhiteSpace(o.SnapshotFile))
        {
            o.SnapshotFile = Path.GetFullPath(o.SnapshotFile);
            if (!File.Exists(o.SnapshotFile)) throw new EmulatorStartupException($"snapshot file not found: {o.SnapshotFile}");
        }
        if (!(o.RateLimitScale > 0)) throw new EmulatorStartupException($"{EmulatorOptions.Section}:RateLimitScale: {o.RateLimitScale} must be greater than 0");
    }
}

/// <summary>Loads the seed into an empty store once Kestrel listens (health answers 503 until then), or the snapshot file
/// when one is given (<see cref="EmulatorOptions.SnapshotFile"/>), then prints the banner.</summary>
internal sealed class StartupSeeder(SeedLoader seed, DocumentStore store, Scheduler scheduler, EmulatorState state,
    EmulatorOptions options, OrganizationDirectory orgs, ILogger<StartupSeeder> log, IHostApplicationLifetime lifetime,
    IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        StartupTimeline.Mark("seeder-start");
        if (!string.IsNullOrWhiteSpace(options.SnapshotFile))
        {
            seed.Configure();
            // (the import rebuilds the scheduler itself, continuing the snapshot's job numbering)
            services.GetRequiredService<Control.Snapshots.SnapshotService>().LoadFile(options.SnapshotFile);
            log.LogInformation("Snapshot: {File}", options.SnapshotFile);
            StartupTimeline.Mark("snapshot-loaded");
        }
        else
        {
            // An empty store's seed is written to the file once the ports listen (or by the first transaction, first):
            // its first-of-the-process JSON and LiteDB work is not on the way to the first response, and a process killed
            // before it leaves an empty file, seeded again the same way by the next start (DocumentStore.WrittenLater.cs).
            if (store.IsEmpty)
            {
                store.TransactionWrittenLater(seed.Apply);
                lifetime.ApplicationStarted.Register(() => Task.Run(() =>
                {
                    try { store.PersistWrittenLater(); }
                    catch (Exception e)
                    {
                        log.LogCritical("Fanfare.Emulator: the seed could not be written to the data file ({Message}); stopping.", e.Message);
                        lifetime.StopApplication();
                    }
                }));
            }
            else seed.Configure();
            StartupTimeline.Mark("seed-applied");
            scheduler.Rebuild();
            StartupTimeline.Mark("scheduler-rebuilt");
        }
        state.Ready = true;
        // Printed once every port listens (a port in use fails the start before any "ready").
        if (options.Banner) lifetime.ApplicationStarted.Register(() => log.LogInformation("{Banner}", Banner(options, orgs.All())));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static string Banner(EmulatorOptions o, IEnumerable<Organization> organizations)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"Fanfare Emulator {EmulatorState.Version} ready");
        sb.AppendLine($"  admin    http://localhost:{o.AdminPort}   consumer http://localhost:{o.ConsumerPort}");
        sb.AppendLine($"  beacon   http://localhost:{o.BeaconPort}   checkout http://localhost:{o.CheckoutPort}");
        sb.AppendLine($"  store    {(o.InMemory ? "in memory" : Path.GetFullPath(Path.Combine(o.DataDirectory, "emulator.db")))}");
        foreach (var org in organizations)
        {
            sb.AppendLine($"  organization \"{org.Name}\" {org.Id}");
            foreach (var (label, value) in new[]
            {
                ("publishable key", org.PublishableKey), ("secret key", org.SecretKey), ("webhook secret", org.WebhookSecret),
                ("customer-token secret", org.CustomerTokenSecret), ("live publishable key", org.LivePublishableKey),
                ("live secret key", org.LiveSecretKey), ("live customer-token secret", org.LiveCustomerTokenSecret),
            })
                sb.AppendLine($"    {label,-27} {value}");
        }
        return sb.ToString();
    }
}
