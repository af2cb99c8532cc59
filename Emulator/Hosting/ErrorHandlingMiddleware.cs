using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Hosting;

/// <summary>
/// Renders <see cref="ApiException"/> as its contract body, bad request framing as the std 400, and anything unexpected
/// as 500 <c>{"error":"Internal server error"}</c> (logged). Unknown routes get 404 <c>{"error":"Not found"}</c> from the
/// fallback endpoint; 503 <c>{"error":"Emulator is starting"}</c> until the seed is loaded.
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> log, EmulatorState state)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        if (!state.Ready && !(ctx.Request.Path.StartsWithSegments("/_emulator/health") || ctx.Request.Path == "/health"))
        {
            await ApiErrors.Result(503, "Emulator is starting").ExecuteAsync(ctx);
            return;
        }
        try
        {
            await next(ctx);
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
