namespace Fanfare.Emulator.Infrastructure;

/// <summary>
/// A 200 JSON answer from bytes already serialized (a read cache's): the status, <c>Content-Type</c> and framing
/// <c>Results.Json</c> uses (<c>application/json; charset=utf-8</c>, no <c>Content-Length</c>), the same body.
/// </summary>
public sealed class Utf8Json : IResult
{
    private readonly byte[] _body;
    private Utf8Json(byte[] body) => _body = body;

    public static Utf8Json Of(byte[] body) => new(body);

    public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext.Response, _body);

    /// <summary>Writes <paramref name="body"/> (JSON, UTF-8) as the answer with <paramref name="status"/>, framed like
    /// <c>Results.Json</c>; for fast paths that answer without a result object (health probes).</summary>
    public static Task WriteAsync(HttpResponse response, byte[] body, int status = StatusCodes.Status200OK)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return response.BodyWriter.WriteAsync(body).AsTask();
    }
}
