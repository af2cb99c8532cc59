using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Hosting;

/// <summary>
/// Renders <see cref="ApiException"/> as its contract body, bad request framing as the std 400, and anything unexpected
/// as 500 <c>{"error":"Internal server error"}</c> (logged). Unknown routes get 404 <c>{"error":"Not found"}</c> from the
/// fallback endpoint; 503 <c>{"error":"Emulator is starting"}</c> until the seed is loaded.
/// <para>It also holds the store commits of each request that is not a read (<see cref="DocumentStore.DeferCommits"/>):
/// the request's transactions do not block a thread until their group commit is in the file; the response's first byte
/// waits for it instead (<c>OnStarting</c>), and the request ends only after every write it made is committed.</para>
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> log, EmulatorState state, ILoggerFactory loggers, DocumentStore store)
{
    private static readonly Func<object, Task> WhenCommitted = static scope => ((DocumentStore.CommitScope)scope).WhenCommittedAsync();

    private bool _timelineReported;

    public async Task InvokeAsync(HttpContext ctx)
    {
        if (!state.Ready && !(ctx.Request.Path.StartsWithSegments("/_emulator/health") || ctx.Request.Path == "/health"))
        {
            await ApiErrors.Result(503, "Emulator is starting").ExecuteAsync(ctx);
            return;
        }
        // Reads (GET, HEAD) rarely write; one that does waits for its commit in place, as any caller outside a request.
        if (HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method))
        {
            await InvokeCoreAsync(ctx);
            return;
        }
        var commits = store.DeferCommits();
        ctx.Response.OnStarting(WhenCommitted, commits);
        try
        {
            await InvokeCoreAsync(ctx);
            await commits.WhenCommittedAsync(); // writes made after the response started
        }
        finally
        {
            commits.Close();
        }
    }

    private async Task InvokeCoreAsync(HttpContext ctx)
    {
        try
        {
            await next(ctx);
            // The compile-time Request Delegate Generator answers a nullable query/route value that does not parse
            // (?limit=abc for int? limit) with a bare 400 instead of throwing: give it the std 400 body too.
            if (ctx.Response.StatusCode == 400 && !ctx.Response.HasStarted && ctx.Response.ContentType is null && BindingFailure(ctx) is { } failure)
                await BadRequest(new BadHttpRequestException(failure)).ExecuteAsync(ctx);
            if (!_timelineReported && ctx.Response.StatusCode == 200) { _timelineReported = true; StartupTimeline.ReportOnce(loggers.CreateLogger(StartupTimeline.Category)); }
        }
        catch (ApiException ex) when (!ctx.Response.HasStarted)
        {
            await ex.ToResult().ExecuteAsync(ctx);
        }
        catch (BadHttpRequestException ex) when (!ctx.Response.HasStarted)
        {
            await BadRequest(ex).ExecuteAsync(ctx);
        }
        catch (Exception ex) when (!ctx.Response.HasStarted && ex is not OperationCanceledException)
        {
            log.LogError(ex, "Unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await ApiErrors.Result(500, "Internal server error").ExecuteAsync(ctx);
        }
    }

    /// <summary>The route handler parameter whose query/route value does not parse, in the words of the runtime binder
    /// (<c>Failed to bind parameter "int? limit" from "abc".</c>); null when the endpoint has none.</summary>
    private static string? BindingFailure(HttpContext ctx)
    {
        if (ctx.GetEndpoint() is not { } endpoint) return null;
        foreach (var p in endpoint.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Http.Metadata.IParameterBindingMetadata>())
        {
            if (!p.HasTryParse) continue;
            var value = ctx.Request.RouteValues.TryGetValue(p.Name, out var r) && r is not null ? r.ToString() : ctx.Request.Query[p.Name].ToString();
            if (string.IsNullOrEmpty(value)) continue;
            var type = Nullable.GetUnderlyingType(p.ParameterInfo.ParameterType) ?? p.ParameterInfo.ParameterType;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            var parses = type == typeof(string) || Type.GetTypeCode(type) switch
            {
                TypeCode.Int32 => int.TryParse(value, inv, out _),
                TypeCode.Int64 => long.TryParse(value, inv, out _),
                TypeCode.Double => double.TryParse(value, inv, out _),
                TypeCode.Decimal => decimal.TryParse(value, inv, out _),
                TypeCode.Boolean => bool.TryParse(value, out _),
                _ => true,
            };
            if (!parses)
            {
                var name = Type.GetTypeCode(type) switch
                {
                    TypeCode.Int32 => "int", TypeCode.Int64 => "long", TypeCode.Double => "double", TypeCode.Decimal => "decimal", TypeCode.Boolean => "bool", _ => type.Name,
                };
                return $"Failed to bind parameter \"{name}{(type != p.ParameterInfo.ParameterType ? "?" : "")} {p.Name}\" from \"{value}\".";
            }
        }
        return null;
    }

    /// <summary>
    /// Request framing Kestrel refuses while the app reads it, in the std envelope with Kestrel's status code: a body over
    /// <c>MaxRequestBodySize</c> → 413 <c>{"error":"Payload too large"}</c> (behavior.md §4.2), a body that stalls → 408,
    /// anything else (a query/route value that does not bind, a broken chunked body) → the std 400.
    /// </summary>
    internal static IResult BadRequest(BadHttpRequestException ex) => ex.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => ApiErrors.Result(413, "Payload too large", ex.Message),
        StatusCodes.Status408RequestTimeout => ApiErrors.Result(408, "Request timeout", ex.Message),
        StatusCodes.Status415UnsupportedMediaType => ApiErrors.Result(415, "Unsupported media type", ex.Message),
        StatusCodes.Status400BadRequest => Validation.Single("body", "request", "valid request", "invalid", ex.Message, "schema").ToResult(),
        var code => ApiErrors.Result(code, "Bad request", ex.Message),
    };
}
