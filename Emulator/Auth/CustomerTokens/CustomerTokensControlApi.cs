using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth.CustomerTokens;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Organizations;
using TokenFormat = Fanfare.Emulator.Auth.CustomerTokens.CustomerTokens;

namespace Fanfare.Emulator.Auth.CustomerTokens;

/// <summary>
/// Control plane for client-side security (customer tokens; see <see cref="CustomerTokenMiddleware"/>):
/// <list type="bullet">
/// <item><c>GET /_emulator/organizations/{organizationId}/client-side-security</c> →
/// <c>{"organizationId","test":{"enforced":bool},"live":{"enforced":bool}}</c>.</item>
/// <item><c>PUT /_emulator/organizations/{organizationId}/client-side-security</c>
/// <c>{"environment":"test"|"live","enforced":bool}</c> → the same shape, after the change.</item>
/// <item><c>POST /_emulator/customer-tokens</c> <c>{organizationId?, environment?, customerId, readOnly?, expiresAt?}</c>
/// → <c>{"token":"HMAC-SHA256 …"}</c>, signed with that environment's secret. <c>organizationId</c> defaults to the
/// seed's first organization, <c>environment</c> to <c>test</c>; <c>expiresAt</c> is ISO 8601 or unix seconds (number
/// or digit string) and must fall in 2001-09-09 … 2286-11-20 (10-digit unix seconds).</item>
/// <item><c>POST /_emulator/customer-tokens/verify</c> <c>{token, organizationId?, environment?}</c> →
/// <c>{valid, reason?: "invalid_format"|"invalid_signature"|"expired", message?, customerId?, readOnly, expiresAt?: ISO,
/// consumerIds?: [consumer ids the customer id names]}</c>; expiry is judged by the emulator clock.</item>
/// </list>
/// Errors: 400 <c>validation_error</c>; 404 <c>{"error":"Organization not found"}</c>.
/// </summary>
public sealed class CustomerTokensApi : IFeatureModule
{
    public const string OrganizationNotFound = "Organization not found";

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var org = routes.Control.MapGroup("/organizations/{organizationId}/client-side-security").WithTags("Emulator client-side security");
        org.MapGet("", (string organizationId, OrganizationDirectory orgs, ClientSideSecurityService security) =>
            Results.Json(State(security, FindOrganization(orgs, organizationId).Id)))
            .WithName("emulatorClientSideSecurityGet").WithSummary("Client-side security enforcement of an organization, per environment.");

        org.MapPut("", async (string organizationId, HttpRequest req, OrganizationDirectory orgs, ClientSideSecurityService security) =>
        {
            var o = FindOrganization(orgs, organizationId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var environment = body.Enum("environment", ClientSideSecurityService.Environments, required: true);
            var enforced = body.Bool("enforced", required: true);
            body.ThrowIfInvalid();
            security.SetEnforced(o.Id, environment!, enforced!.Value);
            return Results.Json(State(security, o.Id));
        }).WithName("emulatorClientSideSecurityPut").WithSummary("Turns client-side security enforcement on or off for one environment.");

        var tokens = routes.Control.MapGroup("/customer-tokens").WithTags("Emulator client-side security");
        tokens.MapPost("", async (HttpRequest req, OrganizationDirectory orgs) =>
        {
            var body = await BodyReader.ReadAsync(req, required: true);
            var organizationId = body.String("organizationId");
            var environment = body.Enum("environment", ClientSideSecurityService.Environments) ?? "test";
            var customerId = body.String("customerId", required: true);
            if (customerId is not null && TokenFormat.InvalidCustomerId(customerId) is { } problem)
                body.AddIssue("customerId", "customer_id", "customer id", body.Root["customerId"], $"Invalid customer id: {problem}");
            var readOnly = body.Bool("readOnly") ?? false;
            var expiresAt = ReadExpiresAt(body);
            body.ThrowIfInvalid();
            var o = FindOrganization(orgs, organizationId);
            var token = TokenFormat.Mint(ClientSideSecurityService.SecretFor(o, environment), customerId!, readOnly, expiresAt);
            return Results.Json(new JsonObject { ["token"] = token });
        }).WithName("emulatorCustomerTokenMint").WithSummary("Mints a customer token as a merchant backend would.");

        tokens.MapPost("/verify", async (HttpRequest req, OrganizationDirectory orgs, ClientSideSecurityService security) =>
        {
            var body = await BodyReader.ReadAsync(req, required: true);
            var token = body.String("token", required: true);
            var organizationId = body.String("organizationId");
            var environment = body.Enum("environment", ClientSideSecurityService.Environments) ?? "test";
            body.ThrowIfInvalid();
            var o = FindOrganization(orgs, organizationId);
            var v = security.Verify(o, environment, token);
            var result = new JsonObject { ["valid"] = v.Valid };
            if (!v.Valid) { result["reason"] = v.Reason; result["message"] = v.Message; }
            if (v.Token is { } t)
            {
                result["customerId"] = t.CustomerId;
                result["readOnly"] = t.ReadOnly;
                if (t.ExpiresAtTime is { } exp) result["expiresAt"] = Json.Iso(exp);
                result["consumerIds"] = new JsonArray(security.ConsumersFor(o.Id, t.CustomerId).Order(StringComparer.Ordinal).Select(id => (JsonNode)id).ToArray());
            }
            else result["readOnly"] = false;
            return Results.Json(result);
        }).WithName("emulatorCustomerTokenVerify").WithSummary("Verifies a customer token the way enforcement does (emulator clock).");
    }

    private static JsonObject State(ClientSideSecurityService security, string organizationId)
    {
        var s = security.Get(organizationId);
        return new JsonObject
        {
            ["organizationId"] = organizationId,
            ["test"] = new JsonObject { ["enforced"] = s.TestEnforced },
            ["live"] = new JsonObject { ["enforced"] = s.LiveEnforced },
        };
    }

    /// <summary>The organization by id, or the seed's first one when <paramref name="id"/> is null. 404 otherwise.</summary>
    private static Organization FindOrganization(OrganizationDirectory orgs, string? id) =>
        (id is null ? orgs.All().FirstOrDefault() : orgs.ById(id)) ?? throw ApiErrors.NotFoundError(OrganizationNotFound);

    /// <summary><c>expiresAt</c>: unix seconds (integer number or digit string) or an ISO 8601 timestamp → unix seconds.</summary>
    private static long? ReadExpiresAt(BodyReader body)
    {
        if (!body.Root.TryGetPropertyValue("expiresAt", out var node) || node is null) return null;
        long? seconds = null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            var d = v.GetValue<double>();
            if (Math.Floor(d) == d && Math.Abs(d) < 1e15) seconds = (long)d;
        }
        else if (node is JsonValue s && s.GetValueKind() == JsonValueKind.String)
        {
            var text = s.GetValue<string>().Trim();
            if (text.Length > 0 && text.All(char.IsAsciiDigit) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                seconds = n;
            else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal, out var t))
                seconds = t.ToUnixTimeSeconds();
        }
        if (seconds is null)
        {
            body.AddIssue("expiresAt", "expires_at", "ISO 8601 timestamp or unix seconds", node,
                $"Invalid expiresAt: Expected an ISO 8601 timestamp or unix seconds but received {Validation.Describe(node)}", "schema");
            return null;
        }
        if (seconds < TokenFormat.MinExp || seconds > TokenFormat.MaxExp)
        {
            body.AddIssue("expiresAt", "exp_range", "10-digit unix seconds", node,
                $"Invalid expiresAt: {seconds} is not 10-digit unix seconds (2001-09-09 … 2286-11-20)");
            return null;
        }
        return seconds;
    }
}
