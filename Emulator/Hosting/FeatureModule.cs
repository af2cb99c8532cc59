using System.Reflection;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Hosting;

/// <summary>
/// A feature (an API group, an engine, a control-plane area). Modules are discovered by reflection, so adding a
/// feature means adding files under its folder, never editing the host. Each hook has a default that does nothing.
/// </summary>
public interface IFeatureModule
{
    /// <summary>Lower runs first (seed application, pipeline order).</summary>
    int Order => 100;
    void AddServices(IServiceCollection services, EmulatorOptions options) { }
    /// <summary>Middleware that runs after the API surface is resolved and before routing.</summary>
    void UsePipeline(IApplicationBuilder app) { }
    void MapEndpoints(EmulatorRoutes routes) { }
    /// <summary>Applies this feature's part of the seed to one organization (<paramref name="orgSeed"/> is its entry).</summary>
    void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed) { }
    /// <summary>Drops in-memory state after <c>POST /_emulator/reset</c> cleared the store (before the seed is re-applied).</summary>
    void OnReset(IServiceProvider services) { }
    /// <summary>Drops in-memory state derived from the store after <c>PUT /_emulator/state</c> replaced documents (all
    /// of them, or one sandbox's). Default: <see cref="OnReset"/>. Control-plane runtime that no snapshot holds (fault
    /// rules, the request journal, rate-limit counters) keeps its state by overriding this with nothing.</summary>
    void OnStateReplaced(IServiceProvider services) => OnReset(services);
}

/// <summary>Route groups per API surface. <see cref="Admin"/> answers on the admin port only, and so on;
/// <see cref="Control"/> (<c>/_emulator</c>) and <see cref="Root"/> answer on every port.</summary>
public sealed record EmulatorRoutes(
    RouteGroupBuilder Admin, RouteGroupBuilder Consumer, RouteGroupBuilder Beacon, RouteGroupBuilder Checkout,
    RouteGroupBuilder Control, IEndpointRouteBuilder Root);

public static class FeatureModules
{
    /// <summary>Every public, non-abstract <see cref="IFeatureModule"/> class of the emulator, in <see cref="IFeatureModule.Order"/>.
    /// Public types only (<c>GetExportedTypes</c>, like the store's document types): loading all of the assembly's ≈ 2,100
    /// types — closures and state machines included — cost ≈ 25 ms and ≈ 5 MB at start (issue 15, bench/README.md). A
    /// module or document type that is not public is a test failure (<c>FeatureDiscoveryTests</c>).</summary>
    public static List<IFeatureModule> Discover() =>
        typeof(IFeatureModule).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IFeatureModule).IsAssignableFrom(t))
            .Select(t => (IFeatureModule)Activator.CreateInstance(t)!)
            .OrderBy(m => m.Order).ThenBy(m => m.GetType().FullName, StringComparer.Ordinal)
            .ToList();
}

/// <summary>Readiness: true once the seed is loaded (<c>GET /_emulator/health</c> answers 503 before).</summary>
public sealed class EmulatorState
{
    public volatile bool Ready;
    public static string Version => typeof(EmulatorState).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
