using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Hosting;

/// <summary>
/// The per-port OpenAPI documents (<c>/openapi/{documentName}.json</c>, Microsoft.AspNetCore.OpenApi) and the Scalar API
/// reference (<c>/_emulator/reference</c>), set up on their first request instead of at start-up (issue 15,
/// bench/README.md "branch boot5": registering them loaded Microsoft.AspNetCore.OpenApi, Microsoft.OpenApi, ApiExplorer,
/// Mvc.Core/Abstractions and Scalar, ≈ 3 MB of RSS and their JIT work, before the first request).
/// <para>
/// The first such request builds a side service provider: a copy of the application's service registrations plus
/// <c>AddOpenApi</c> for each surface, with the application's own endpoint table, server (its listening addresses) and
/// logger factory; and a small pipeline (routing, <c>MapOpenApi</c>, <c>MapScalarApiReference</c>, the same JSON 404
/// fallback as the application). The application routes every request under those paths to that pipeline, so the
/// documents, the reference and their 404s are produced by the same library code as when they were mapped at start.
/// </para>
/// </summary>
internal static class OpenApiDocuments
{
    public const string DocumentPattern = "/openapi/{documentName}.json";
    public const string ReferencePath = "/_emulator/reference";

    /// <summary>Maps the entry points (excluded from the documents, as <c>MapOpenApi</c> and Scalar's endpoints are).</summary>
    public static void Map(WebApplication app, IServiceCollection services)
    {
        var side = new Lazy<(IServiceProvider Provider, RequestDelegate Pipeline)>(() => BuildPipeline(app, services), LazyThreadSafetyMode.ExecutionAndPublication);
        RequestDelegate dispatch = async ctx =>
        {
            var (provider, pipeline) = side.Value;
            var endpoint = ctx.GetEndpoint();
            var routeValues = new RouteValueDictionary(ctx.Request.RouteValues);
            var requestServices = ctx.RequestServices;
            await using var scope = provider.CreateAsyncScope();
            // The side pipeline routes the request again (its routing skips a request that already has an endpoint).
            ctx.SetEndpoint(null);
            ctx.Request.RouteValues.Clear();
            ctx.RequestServices = scope.ServiceProvider;
            try { await pipeline(ctx); }
            finally
            {
                ctx.RequestServices = requestServices;
                ctx.SetEndpoint(endpoint);
                ctx.Request.RouteValues = routeValues;
            }
        };
        app.Map(DocumentPattern, dispatch).ExcludeFromDescription();
        app.Map(ReferencePath, dispatch).ExcludeFromDescription();
        app.Map(ReferencePath + "/{**path}", dispatch).ExcludeFromDescription();
    }

    private static (IServiceProvider, RequestDelegate) BuildPipeline(WebApplication app, IServiceCollection services)
    {
        IServiceCollection side = new ServiceCollection();
        foreach (var d in services) side.Add(d);
        // The application's own instances, not copies: the endpoint table the documents describe, the server whose
        // addresses fill "servers", the logging configuration. (Instances: the side provider does not dispose them.)
        side.AddSingleton(app.Services.GetRequiredService<EndpointDataSource>());
        side.AddSingleton(app.Services.GetRequiredService<IServer>());
        side.AddSingleton(app.Services.GetRequiredService<ILoggerFactory>());
        AddDocuments(side);
        var provider = side.BuildServiceProvider();
        app.Lifetime.ApplicationStopped.Register(() => ((IDisposable)provider).Dispose());

        var pipeline = new ApplicationBuilder(provider);
        pipeline.UseRouting();
        pipeline.UseEndpoints(e =>
        {
            e.MapOpenApi(DocumentPattern);
            // Scalar: /_emulator/reference on every port, reading that port's own /openapi/v1.json.
            e.MapScalarApiReference(ReferencePath, o =>
            {
                o.WithTitle("Fanfare Emulator API reference");
                o.WithOpenApiRoutePattern("/openapi/v1.json");
            });
            // A plain RequestDelegate (no parameter binding, nothing for the Request Delegate Generator to intercept).
            // Not {*path:nonfile}: /x.json is a JSON 404 too.
            e.MapFallback("{*path}", static ctx => ApiErrors.Result(404, ApiErrors.NotFound).ExecuteAsync(ctx));
        });
        return (provider, pipeline.Build());
    }

    /// <summary>One document per API surface: its own paths (prefix removed), the control plane and <c>/health</c>.</summary>
    private static void AddDocuments(IServiceCollection s)
    {
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
    }
}
