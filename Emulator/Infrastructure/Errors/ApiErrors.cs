using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Infrastructure.Errors;

/// <summary>
/// The error bodies of the contract (README "std" errors; behavior.md §4): <c>{ "error": string, "message"?: string }</c>
/// with the documented status code. Engines throw <see cref="ApiException"/>; the pipeline renders it.
/// </summary>
public static class ApiErrors
{
    public const string AuthenticationRequired = "Authentication required";
    public const string SecretKeyRequired = "Secret key required";
    public const string NotFound = "Not found";

    public static ApiException Unauthorized(string error = AuthenticationRequired, string? message = null) => new(401, error, message);
    public static ApiException SecretRequired() => new(401, SecretKeyRequired);
    public static ApiException Forbidden(string error, string? message = null) => new(403, error, message);
    public static ApiException NotFoundError(string error) => new(404, error);
    public static ApiException Conflict(string error, string? message = null) => new(409, error, message);
    public static ApiException BadRequest(string error, string? message = null) => new(400, error, message);

    /// <summary>Renders <c>{"error":…,"message"?:…}</c> plus any extra fields.</summary>
    public static IResult Result(int status, string error, string? message = null, JsonObject? extra = null, IDictionary<string, string>? headers = null)
    {
        var body = new JsonObject { ["error"] = error };
        if (message is not null) body["message"] = message;
        if (extra is not null)
            foreach (var (k, v) in extra) body[k] = v?.DeepClone();
        return new JsonResult(status, body, headers);
    }
}

/// <summary>An error with a contract body. <see cref="Body"/> replaces the default <c>{error,message}</c> when set.</summary>
public sealed class ApiException : Exception
{
    public ApiException(int status, string error, string? message = null, JsonObject? body = null, IDictionary<string, string>? headers = null)
        : base(message ?? error)
    {
        Status = status; Error = error; ApiMessage = message; Body = body; Headers = headers ?? new Dictionary<string, string>();
    }
    public int Status { get; }
    public string Error { get; }
    public string? ApiMessage { get; }
    public JsonObject? Body { get; }
    public IDictionary<string, string> Headers { get; }

    public IResult ToResult()
    {
        if (Body is not null) return new JsonResult(Status, Body, Headers);
        return ApiErrors.Result(Status, Error, ApiMessage, null, Headers);
    }
}

/// <summary>A JSON body with any status code and extra response headers.</summary>
public sealed class JsonResult(int status, JsonNode? body, IDictionary<string, string>? headers = null) : IResult
{
    public int StatusCode => status;
    public JsonNode? Body => body;
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = status;
        if (headers is not null)
            foreach (var (k, v) in headers) httpContext.Response.Headers[k] = v;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await httpContext.Response.WriteAsync(body?.ToJsonString(Json.Options) ?? "null");
    }
}
