using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>
/// README "std" 400: <c>{"error":"validation_error","issues":[{kind,type,expected,received,message,path}]}</c> for
/// malformed JSON, wrong types and missing fields on the /auth operations — never a 500, and nothing stored is lost.
/// </summary>
public sealed class ValidationTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Fact]
    public async Task Malformed_json_is_a_validation_error()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var issues = (await emu.Consumer.PostRawAsync("/auth/otp/request", "{\"email\": ", Pk(org.PublishableKey))).AssertValidationError();
        Assert.Single(issues);
    }

    [Fact]
    public async Task Wrong_types_name_the_field_and_what_was_received()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var issue = (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = 5 })).AssertValidationError().IssueAt("email");
        Assert.Equal("string", issue["expected"]!.GetValue<string>());
        Assert.Equal("5", issue["received"]!.GetValue<string>());

        var code = (await emu.VerifyOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "a@example.com", ["code"] = 123456 })).AssertValidationError().IssueAt("code");
        Assert.Equal("123456", code["received"]!.GetValue<string>());

        (await emu.ExchangeAsync(org.PublishableKey, null!)).AssertValidationError().IssueAt("exchangeCode");
        (await emu.Consumer.PostJsonAsync("/auth/refresh", new JsonObject { ["refreshToken"] = true }, Pk(org.PublishableKey))).AssertValidationError().IssueAt("refreshToken");
        (await emu.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("s", claims: new JsonObject { ["email"] = 7 }))).AssertValidationError().IssueAt("claims");
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "not-an-email" })).AssertValidationError().IssueAt("email");
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "call me" })).AssertValidationError().IssueAt("phone");
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "2025550123", ["defaultCountry"] = "XX" })).AssertValidationError().IssueAt("defaultCountry");
    }

    [Fact]
    public async Task Missing_fields_are_received_undefined()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();

        var recipient = (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject())).AssertValidationError().IssueAt("email");
        Assert.Equal("undefined", recipient["received"]!.GetValue<string>());

        var verify = (await emu.VerifyOtpAsync(org.PublishableKey, new JsonObject { ["email"] = "a@example.com" })).AssertValidationError();
        Assert.Equal("undefined", verify.IssueAt("code")["received"]!.GetValue<string>());

        var authorize = (await emu.AuthorizeAsync(org.SecretKey, new JsonObject())).AssertValidationError();
        foreach (var key in new[] { "provider", "issuer", "subject" })
            Assert.Equal("undefined", authorize.IssueAt(key)["received"]!.GetValue<string>());

        (await emu.Consumer.PostJsonAsync("/auth/external/exchange", new JsonObject(), Pk(org.PublishableKey))).AssertValidationError().IssueAt("exchangeCode");
        (await emu.Consumer.PostJsonAsync("/auth/otp/request", null, Pk(org.PublishableKey))).AssertValidationError();
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("{\"email\":\"a@example.com\",\"email\":\"b@example.com\",\"code\":5}")]
    [InlineData("{\"email\":{},\"phone\":[],\"code\":null,\"exchangeCode\":false,\"refreshToken\":{},\"provider\":1,\"issuer\":[],\"subject\":null,\"claims\":\"x\",\"canonicalSubject\":\"\"}")]
    [InlineData("{\"email\":\"a@example.com\",\"code\":\"1\",\"defaultCountry\":{},\"name\":7,\"refreshToken\":5}")]
    public async Task Garbage_bodies_are_400_never_500(string raw)
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        foreach (var (path, headers) in new[]
                 {
                     ("/auth/otp/request", Pk(org.PublishableKey)), ("/auth/otp/verify", Pk(org.PublishableKey)),
                     ("/auth/external/authorize", Sk(org.SecretKey)), ("/auth/external/exchange", Pk(org.PublishableKey)),
                     ("/auth/refresh", Pk(org.PublishableKey)),
                 })
        {
            var r = await emu.Consumer.PostRawAsync(path, raw, headers);
            Assert.True(r.Code == 400, $"{path} with {raw}: expected 400, got {r.Code} {r.Text}");
            r.AssertValidationError();
        }
    }

    [Fact]
    public async Task Bad_requests_lose_nothing_already_stored()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var signedIn = await emu.EmailSignInAsync(org.PublishableKey, "keeper@example.com");
        var consumerId = signedIn["session"]!["consumerId"]!.GetValue<string>();
        var code = (await emu.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("keeper"))).EnsureStatus(200)["exchangeCode"].GetValue<string>();

        foreach (var path in new[] { "/auth/otp/request", "/auth/otp/verify", "/auth/external/exchange", "/auth/refresh" })
            (await emu.Consumer.PostRawAsync(path, "{\"oops\"", Pk(org.PublishableKey))).AssertValidationError();
        (await emu.Consumer.PostRawAsync("/auth/external/authorize", "[1,2]", Sk(org.SecretKey))).AssertValidationError();

        (await emu.RefreshAsync(org.PublishableKey, signedIn["refreshToken"]!.GetValue<string>())).EnsureStatus(200);
        (await emu.ExchangeAsync(org.PublishableKey, code)).EnsureStatus(200);
        var again = await emu.EmailSignInAsync(org.PublishableKey, "keeper@example.com");
        Assert.Equal(consumerId, again["session"]!["consumerId"]!.GetValue<string>());
        Assert.Equal("existing", (await emu.AuthorizeAsync(org.SecretKey, AuthSteps.Identity("keeper"))).EnsureStatus(200)["resolution"].GetValue<string>());
    }
}
