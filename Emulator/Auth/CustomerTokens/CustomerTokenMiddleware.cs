using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Auth.CustomerTokens;

/// <summary>
/// Enforces client-side security on the consumer API. Applies to a request when all hold: it arrived on the consumer
/// port and is a consumer route (not <c>/_emulator</c>, <c>/health</c>, the OpenAPI document); it is authenticated by a
/// publishable key (<c>X-Publishable-Key</c>, <c>?api_key=pk_…</c> or <c>Bearer pk_…</c>, and no secret key); the
/// organization enforces client-side security in that key's environment; it is not exempt. Exempt: <c>OPTIONS</c>,
/// <c>GET /.well-known/jwks.json</c>, and the pre-session auth endpoints <c>/auth/guest</c>, <c>/auth/otp/*</c>,
/// <c>/auth/external/*</c>, <c>/auth/refresh</c> (a frontend has no customer token before its consumer exists).
/// <c>POST /auth/logout</c> and every other consumer route, including future ones and unknown paths, are enforced.
/// <para>Checks, in order, on the <c>X-Customer-Token</c> header (<see cref="CustomerTokens"/>):</para>
/// <list type="bullet">
/// <item>missing or malformed → 401 <c>Customer token has invalid format</c>;</item>
/// <item>wrong signature → 401 <c>Customer token has invalid signature</c>;</item>
/// <item><c>exp</c> ≤ emulator-clock now → 401 <c>Customer token has expired</c>;</item>
/// <item>a valid consumer access token (<c>Authorization: Bearer</c>) of a consumer the token's customer id does not
/// name (neither its consumerId nor an external identity subject of it) → 403
/// <c>Customer token does not match the signed-in consumer</c>;</item>
/// <item>a <c>ro:</c> token on a method other than GET/HEAD → 403 <c>Customer token is read-only</c>.</item>
/// </list>
/// Error body (401 code <c>Unauthenticated</c>, 403 code <c>Forbidden</c>), with the same trace id in <c>X-Trace-Id</c>:
/// <c>{"errors":[{"message":…,"extensions":{"isValidationError":true,"code":…,"traceId":"&lt;uuid&gt;"}}],"data":null}</c>.
/// A request that passes carries the verified token in <see cref="CustomerTokenHttpContextExtensions.VerifiedCustomerToken"/>.
/// </summary>
public sealed class CustomerTokenMiddleware(RequestDelegate next)
{
    public const string HeaderName = "X-Customer-Token";
    public const string ItemKey = "fanfare.customerToken";
    public const string MismatchMessage = "Customer token does not match the signed-in consumer";
    public const string ReadOnlyMessage = "Customer token is read-only";

    private static readonly string ConsumerPrefix = ApiSurfaceMiddleware.Prefix(ApiSurface.Consumer);

    /// <summary>Consumer paths (after the surface prefix) that never need a customer token.</summary>
    public static bool IsExempt(string method, string consumerPath)
    {
        if (HttpMethods.IsOptions(method)) return true;
        var p = consumerPath.Length > 1 ? consumerPath.TrimEnd('/') : consumerPath;
        bool Is(string s) => p.Equals(s, StringComparison.OrdinalIgnoreCase);
        bool Under(string s) => p.StartsWith(s, StringComparison.OrdinalIgnoreCase);
        return Is("/.well-known/jwks.json")
            || Is("/auth/guest") || Under("/auth/otp/") || Under("/auth/external/") || Is("/auth/refresh");
    }

    public Task InvokeAsync(HttpContext ctx)
    {
        if (ctx.Surface() != ApiSurface.Consumer) return next(ctx);
        var path = ctx.Request.Path.Value ?? "";
        if (!path.StartsWith(ConsumerPrefix + "/", StringComparison.Ordinal)) return next(ctx);
        if (IsExempt(ctx.Request.Method, path[ConsumerPrefix.Length..])) return next(ctx);

        var caller = Caller.From(ctx);
        if (caller.Invalid || caller.Organization is not { } org || caller.Kind != CredentialKind.Publishable) return next(ctx);
        var security = ctx.RequestServices.GetRequiredService<ClientSideSecurityService>();
        if (!security.IsEnforced(org.Id, caller.Environment)) return next(ctx);

        var header = ctx.Request.Headers[HeaderName];
        var verification = header.Count == 1
            ? security.Verify(org, caller.Environment, header[0])
            : new CustomerTokenVerification(CustomerTokenFailure.InvalidFormat, null);
        if (!verification.Valid) return Reject(ctx, 401, "Unauthenticated", verification.Message!);

        var token = verification.Token!;
        if (caller.Consumer is { } principal && !security.ConsumersFor(org.Id, token.CustomerId).Contains(principal.ConsumerId))
            return Reject(ctx, 403, "Forbidden", MismatchMessage);
        if (token.ReadOnly && !(HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method)))
            return Reject(ctx, 403, "Forbidden", ReadOnlyMessage);

        ctx.Items[ItemKey] = token;
        return next(ctx);
    }

    private static Task Reject(HttpContext ctx, int status, string code, string message)
    {
        var traceId = ctx.RequestServices.GetRequiredService<IdGenerator>().NewUuid("trace");
        return new JsonResult(status, ErrorBody(message, code, traceId), new Dictionary<string, string> { ["X-Trace-Id"] = traceId })
            .ExecuteAsync(ctx);
    }

    /// <summary><c>{"errors":[{"message","extensions":{"isValidationError":true,"code","traceId"}}],"data":null}</c>.</summary>
    public static JsonObject ErrorBody(string message, string code, string traceId) => new()
    {
        ["errors"] = new JsonArray(new JsonObject
        {
            ["message"] = message,
            ["extensions"] = new JsonObject { ["isValidationError"] = true, ["code"] = code, ["traceId"] = traceId },
        }),
        ["data"] = null,
    };
}

public static class CustomerTokenHttpContextExtensions
{
    /// <summary>The customer token this request was verified with, when client-side security was enforced for it.</summary>
    public static ParsedCustomerToken? VerifiedCustomerToken(this HttpContext ctx) =>
        ctx.Items.TryGetValue(CustomerTokenMiddleware.ItemKey, out var t) ? t as ParsedCustomerToken : null;
}
