using System.Text;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>The seven /auth calls of consumer-part1.md over HTTP, plus body assertions shared by the auth tests.</summary>
internal static class AuthSteps
{
    public static Task<ApiResponse> PostGuestAsync(this EmulatorServer emu, string pk) =>
        emu.Consumer.PostJsonAsync("/auth/guest", null, Pk(pk));

    public static Task<ApiResponse> RequestOtpAsync(this EmulatorServer emu, string pk, JsonObject body) =>
        emu.Consumer.PostJsonAsync("/auth/otp/request", body, Pk(pk));

    public static Task<ApiResponse> VerifyOtpAsync(this EmulatorServer emu, string pk, JsonObject body, string? accessToken = null) =>
        emu.Consumer.PostJsonAsync("/auth/otp/verify", body, Pk(pk, accessToken));

    public static Task<ApiResponse> AuthorizeAsync(this EmulatorServer emu, string sk, JsonObject body) =>
        emu.Consumer.PostJsonAsync("/auth/external/authorize", body, Sk(sk));

    public static Task<ApiResponse> ExchangeAsync(this EmulatorServer emu, string pk, string code, string? accessToken = null) =>
        emu.Consumer.PostJsonAsync("/auth/external/exchange", new JsonObject { ["exchangeCode"] = code }, Pk(pk, accessToken));

    public static Task<ApiResponse> RefreshAsync(this EmulatorServer emu, string pk, string refreshToken) =>
        emu.Consumer.PostJsonAsync("/auth/refresh", new JsonObject { ["refreshToken"] = refreshToken }, Pk(pk));

    public static Task<ApiResponse> LogoutAsync(this EmulatorServer emu, string pk, string accessToken) =>
        emu.Consumer.PostJsonAsync("/auth/logout", null, Pk(pk, accessToken));

    /// <summary>The code of the newest email (or SMS) to <paramref name="to"/>, waiting up to 5 s for it.</summary>
    public static async Task<string> LatestCodeAsync(this EmulatorServer emu, string to, bool sms = false)
    {
        var m = await emu.Control.GetJsonAsync($"/_emulator/{(sms ? "sms" : "inbox")}/latest?to={Uri.EscapeDataString(to)}&waitSeconds=5");
        return m["code"]!.GetValue<string>();
    }

    /// <summary>Request + verify an email code → the 200 session response.</summary>
    public static async Task<JsonNode> EmailSignInAsync(this EmulatorServer emu, string pk, string email, string? accessToken = null)
    {
        (await emu.RequestOtpAsync(pk, new JsonObject { ["email"] = email })).EnsureStatus(200);
        var code = await emu.LatestCodeAsync(email);
        return (await emu.VerifyOtpAsync(pk, new JsonObject { ["email"] = email, ["code"] = code }, accessToken)).EnsureStatus(200).Json!;
    }

    /// <summary>Authorize (secret key) + exchange (publishable key) → the 200 session response.</summary>
    public static async Task<JsonNode> ExternalSignInAsync(this EmulatorServer emu, OrgKeys org, JsonObject authorizeBody)
    {
        var code = (await emu.AuthorizeAsync(org.SecretKey, authorizeBody)).EnsureStatus(200)["exchangeCode"].GetValue<string>();
        return (await emu.ExchangeAsync(org.PublishableKey, code)).EnsureStatus(200).Json!;
    }

    public static JsonObject Identity(string subject, string? canonical = null, JsonObject? claims = null, string provider = "auth0", string issuer = "https://merchant.example/")
    {
        var o = new JsonObject { ["provider"] = provider, ["issuer"] = issuer, ["subject"] = subject };
        if (canonical is not null) o["canonicalSubject"] = canonical;
        if (claims is not null) o["claims"] = claims;
        return o;
    }

    /// <summary>Status and body exactly (JSON deep equality).</summary>
    public static void AssertBody(this ApiResponse r, int status, string expectedJson)
    {
        Assert.True(r.Code == status, $"Expected HTTP {status} but got {r.Code}: {r.Text}");
        Assert.True(r.Json is not null, $"Expected a JSON body but got \"{r.Text}\" ({r.ContentHeaders?.ContentType})");
        Assert.True(JsonNode.DeepEquals(r.Json, JsonNode.Parse(expectedJson)), $"Expected body {expectedJson} but got {r.Text}");
    }

    /// <summary>Status and the <c>error</c> field (other fields may follow, e.g. <c>message</c>).</summary>
    public static void AssertError(this ApiResponse r, int status, string error)
    {
        Assert.True(r.Code == status, $"Expected HTTP {status} but got {r.Code}: {r.Text}");
        Assert.Equal(error, r.Json?["error"]?.GetValue<string>());
    }

    /// <summary>400 <c>{"error":"validation_error","issues":[{kind,type,expected,received,message,path}]}</c>; returns the issues.</summary>
    public static JsonArray AssertValidationError(this ApiResponse r)
    {
        Assert.True(r.Code == 400, $"Expected HTTP 400 but got {r.Code}: {r.Text}");
        Assert.Equal("validation_error", r.Json?["error"]?.GetValue<string>());
        var issues = r.Json!["issues"]!.AsArray();
        Assert.NotEmpty(issues);
        foreach (var issue in issues)
        {
            var o = issue!.AsObject();
            foreach (var key in new[] { "kind", "type", "expected", "received", "message" })
                Assert.True(o[key] is JsonValue v && v.TryGetValue<string>(out _), $"issue.{key} must be a string: {o.ToJsonString()}");
            Assert.True(o["path"] is JsonArray, $"issue.path must be an array: {o.ToJsonString()}");
        }
        return issues;
    }

    /// <summary>The issue whose path ends at <paramref name="key"/>.</summary>
    public static JsonObject IssueAt(this JsonArray issues, string key) =>
        issues.Select(i => i!.AsObject()).FirstOrDefault(i => i["path"]!.AsArray().LastOrDefault()?["key"]?.GetValue<string>() == key)
        ?? throw new Xunit.Sdk.XunitException($"no issue at \"{key}\" in {issues.ToJsonString()}");
}

/// <summary>Reads a JWT's parts without verifying it.</summary>
internal static class Jwt
{
    public static string HeaderJson(string token) => Encoding.UTF8.GetString(Decode(token.Split('.')[0]));
    public static JsonObject Payload(string token) => JsonNode.Parse(Decode(token.Split('.')[1]))!.AsObject();

    public static byte[] Decode(string b64url)
    {
        var s = b64url.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
    }
}
