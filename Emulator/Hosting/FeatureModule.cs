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
    /// <summary>Every concrete <see cref="IFeatureModule"/> class of the emulator's assembly, by <see cref="IFeatureModule.Order"/>
    /// then full name. Found in the assembly's metadata (System.Reflection.Metadata) so that only the module types are
    /// loaded, not all of the assembly's types as <c>Assembly.GetTypes()</c> does (issue 15: start-up time and memory);
    /// by reflection when the assembly has no file.</summary>
    public static List<IFeatureModule> Discover() =>
        Candidates(typeof(IFeatureModule).Assembly)
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IFeatureModule).IsAssignableFrom(t))
            .Select(t => (IFeatureModule)Activator.CreateInstance(t)!)
            .OrderBy(m => m.Order).ThenBy(m => m.GetType().FullName, StringComparer.Ordinal)
            .ToList();

    /// <summary>The types of <paramref name="assembly"/> that may implement <see cref="IFeatureModule"/> (a superset, checked
    /// by the caller): classes whose base types or interfaces, followed inside the assembly, reach it.</summary>
    internal static IEnumerable<Type> Candidates(Assembly assembly)
    {
        if (string.IsNullOrEmpty(assembly.Location) || !File.Exists(assembly.Location)) return assembly.GetTypes();
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assembly.Location));
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        var target = typeof(IFeatureModule);
        var memo = new Dictionary<System.Reflection.Metadata.TypeDefinitionHandle, bool>();

        bool Reaches(System.Reflection.Metadata.EntityHandle h, int depth)
        {
            if (depth > 64 || h.IsNil || h.Kind != System.Reflection.Metadata.HandleKind.TypeDefinition) return false;
            var handle = (System.Reflection.Metadata.TypeDefinitionHandle)h;
            if (memo.TryGetValue(handle, out var known)) return known;
            memo[handle] = false;
            var td = md.GetTypeDefinition(handle);
            var result = (md.StringComparer.Equals(td.Name, target.Name) && md.StringComparer.Equals(td.Namespace, target.Namespace!)
                          && td.GetDeclaringType().IsNil)
                         || Reaches(td.BaseType, depth + 1)
                         || td.GetInterfaceImplementations().Any(i => Reaches(md.GetInterfaceImplementation(i).Interface, depth + 1));
            return memo[handle] = result;
        }

        string FullName(System.Reflection.Metadata.TypeDefinition td)
        {
            var name = md.GetString(td.Name);
            var declaring = td.GetDeclaringType();
            if (!declaring.IsNil) return FullName(md.GetTypeDefinition(declaring)) + "+" + name;
            var ns = md.GetString(td.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        var types = new List<Type>();
        foreach (var h in md.TypeDefinitions)
        {
            var td = md.GetTypeDefinition(h);
            if ((td.Attributes & (TypeAttributes.Interface | TypeAttributes.Abstract)) != 0 || !Reaches(h, 0)) continue;
            if (assembly.GetType(FullName(td), throwOnError: false) is { } t) types.Add(t);
        }
        return types;
    }
}

/// <summary>Readiness: true once the seed is loaded (<c>GET /_emulator/health</c> answers 503 before).</summary>
public sealed class EmulatorState
{
    public volatile bool Ready;
    public static string Version => typeof(EmulatorState).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
