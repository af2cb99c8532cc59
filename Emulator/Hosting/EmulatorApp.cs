using System.Net;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
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
    /// configuration binding. Flags: <c>--seed FILE</c>, <c>--data DIR</c>, <c>--in-memory</c>, and any
    /// <c>--Emulator:Key=value</c>.
    /// </summary>
    public static WebApplication Build(string[] args, Action<EmulatorOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = Translate(args) });
        var options = new EmulatorOptions();
        builder.Configuration.GetSection(EmulatorOptions.Section).Bind(options);
        configure?.Invoke(options);

        builder.WebHost.ConfigureKestrel(k =>
        {
            var ip = IPAddress.Parse(options.BindAddress);
            foreach (var port in new[] { options.AdminPort, options.ConsumerPort, options.BeaconPort, options.CheckoutPort }.Distinct())
                k.Listen(ip, port);
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        var modules = FeatureModules.Discover();
        var s = builder.Services;
        s.AddSingleton(options);
        s.AddSingleton<IEnumerable<IFeatureModule>>(modules);
        s.AddSingleton<EmulatorState>();
        s.AddSingleton<EmulatorClock>();
        s.AddSingleton<TimeProvider>(sp => sp.GetRequiredService<EmulatorClock>());
        s.AddSingleton<ClockResolver>();
        s.AddSingleton(_ => DocumentStore.Open(options.InMemory, options.DataDirectory));
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
        s.ConfigureHttpJsonOptions(o => Json.Configure(o.SerializerOptions));
        // Query/route binding failures (e.g. ?waitSeconds=abc) throw, so ErrorHandlingMiddleware answers the std 400.
        s.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        foreach (var surface in Enum.GetValues<ApiSurface>())
        {
            var prefix = ApiSurfaceMiddleware.Prefix(surface).TrimStart('/') + "/";
            s.AddOpenApi(surface.ToString().ToLowerInvariant(), o =>
            {
                o.ShouldInclude = d => d.RelativePath is { } p && (p.StartsWith(prefix, StringComparison.Ordinal) || p.StartsWith("_emulator", StringComparison.Ordinal) || p == "health");
                o.AddDocumentTransformer((doc, _, _) =>
                {
                    doc.Info = new OpenApiInfo { Title = $"Fanfare Emulator — {surface} API", Version = EmulatorState.Version,
                        Description = $"The {surface} API as the emulator serves it (also under /api and /api/v1), plus the /_emulator control plane." };
                    var paths = new OpenApiPaths();
                    foreach (var (path, item) in doc.Paths)
                        paths[path.StartsWith("/" + prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path] = item;
                    doc.Paths = paths;
                    return Task.CompletedTask;
                });
            });
        }
        foreach (var m in modules) m.AddServices(s, options);
        services?.Invoke(s);

        var app = builder.Build();
        // Browsers: a frontend on another localhost port calls the APIs with custom headers (X-Publishable-Key …), which
        // needs CORS preflights answered. First in the pipeline so error bodies (401, 503 …) are readable too.
        // Loopback origins, plus Emulator:CorsOrigins (EmulatorCorsPolicyProvider).
        app.UseCors();
        app.UseMiddleware<OriginGuardMiddleware>();
        app.UseMiddleware<ApiSurfaceMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        foreach (var m in modules) m.UsePipeline(app);
        app.UseRouting();

        app.MapOpenApi("/openapi/{documentName}.json");
        var routes = new EmulatorRoutes(
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Admin)).WithTags("Admin API"),
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Consumer)).WithTags("Consumer API"),
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Beacon)).WithTags("Beacon API"),
            app.MapGroup(ApiSurfaceMiddleware.Prefix(ApiSurface.Checkout)).WithTags("Checkout API"),
            app.MapGroup("/_emulator").WithTags("Emulator control plane"),
            app);
        foreach (var m in modules) m.MapEndpoints(routes);
        app.MapFallback("{*path}", () => ApiErrors.Result(404, ApiErrors.NotFound)).ExcludeFromDescription(); // not {*path:nonfile}: /x.json is JSON 404 too
        return app;
    }

    /// <summary>Short flags → configuration keys.</summary>
    private static string[] Translate(string[] args)
    {
        var list = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seed" when i + 1 < args.Length: list.Add($"--Emulator:SeedFile={args[++i]}"); break;
                case "--data" when i + 1 < args.Length: list.Add($"--Emulator:DataDirectory={args[++i]}"); break;
                case "--in-memory": list.Add("--Emulator:InMemory=true"); break;
                default: list.Add(args[i]); break;
            }
        }
        return list.ToArray();
    }
}

/// <summary>Loads the seed into an empty store once Kestrel listens (health answers 503 until then), then prints the banner.</summary>
internal sealed class StartupSeeder(SeedLoader seed, DocumentStore store, Scheduler scheduler, EmulatorState state,
    EmulatorOptions options, OrganizationDirectory orgs, ILogger<StartupSeeder> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.IsEmpty) seed.Apply(); else seed.Configure();
        scheduler.Rebuild();
        state.Ready = true;
        if (options.Banner) log.LogInformation("{Banner}", Banner(options, orgs.All()));
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
            sb.AppendLine($"    publishable key  {org.PublishableKey}");
            sb.AppendLine($"    secret key       {org.SecretKey}");
            sb.AppendLine($"    webhook secret   {org.WebhookSecret}");
        }
        return sb.ToString();
    }
}
