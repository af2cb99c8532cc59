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

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        return httpContext.Response.BodyWriter.WriteAsync(_body).AsTask();
    }
}
