using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>
/// consumer-part1.md <c>POST /auth/otp/request</c>, <c>POST /auth/otp/verify</c>; behavior.md §2.2 (6 digits, 10 minutes,
/// single use, limited tries, E.164 phones, linking a guest) and §5 (10 requests a minute per recipient).
/// </summary>
public sealed class OtpTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private const string Expired = """{"error":"otp_expired","message":"Your verification code has expired. Please request a new one."}""";
    private const string Invalid = """{"error":"otp_invalid","message":"Invalid verification code. Please try again."}""";

    private static JsonObject Email(string email, string? code = null)
    {
        var o = new JsonObject { ["email"] = email };
        if (code is not null) o["code"] = code;
        return o;
    }

    [Fact]
    public async Task Email_code_is_six_digits_in_the_inbox_and_signs_in()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("Shopper@Example.com"))).AssertBody(200, """{"ok":true}""");

        var message = await emu.Control.GetJsonAsync("/_emulator/inbox/latest?to=shopper@example.com");
        var code = message["code"]!.GetValue<string>();
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Contains(code, message["text"]!.GetValue<string>());
        Assert.Equal(org.Id, message["organizationId"]!.GetValue<string>());

        var r = (await emu.VerifyOtpAsync(org.PublishableKey, Email("shopper@example.com", code))).EnsureStatus(200);
        var session = r["session"];
        Assert.Equal("authenticated", session["type"]!.GetValue<string>());
        Assert.Equal("shopper@example.com", session["email"]!.GetValue<string>());
        Assert.Null(session["guestId"]);
        Assert.Equal(2592000, r["refreshTokenTtlSeconds"].GetValue<int>());
        Assert.False(string.IsNullOrEmpty(r["beaconToken"].GetValue<string>()));
    }

    [Theory]
    [InlineData("(202) 555-0123", "US", "+12025550123")]
    [InlineData("07700 900123", "GB", "+447700900123")]
    [InlineData("+1 202 555 0199", null, "+12025550199")]
    public async Task Phone_code_goes_to_the_sms_sink_in_E164(string input, string? country, string e164)
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var request = new JsonObject { ["phone"] = input };
        if (country is not null) request["defaultCountry"] = country;
        (await emu.RequestOtpAsync(org.PublishableKey, request)).EnsureStatus(200);

        var sms = await emu.Control.GetJsonAsync($"/_emulator/sms/latest?to={Uri.EscapeDataString(e164)}");
        Assert.Equal(e164, sms["to"]!.GetValue<string>());
        var code = sms["code"]!.GetValue<string>();
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Contains(code, sms["body"]!.GetValue<string>());

        var verify = (JsonObject)request.DeepClone();
        verify["code"] = code;
        var r = (await emu.VerifyOtpAsync(org.PublishableKey, verify)).EnsureStatus(200);
        Assert.Equal("authenticated", r["session"]["type"].GetValue<string>());
        Assert.Equal(e164, r["session"]["phone"].GetValue<string>());
        Assert.Equal(e164, Jwt.Payload(r["accessToken"].GetValue<string>())["phone"]!.GetValue<string>());
    }

    [Fact]
    public async Task Local_and_E164_forms_are_the_same_recipient_and_the_same_consumer()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "(202) 555-0123", ["defaultCountry"] = "US" })).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("+12025550123", sms: true);
        var first = (await emu.VerifyOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+12025550123", ["code"] = code })).EnsureStatus(200);

        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+12025550123" })).EnsureStatus(200);
        code = await emu.LatestCodeAsync("+12025550123", sms: true);
        var second = (await emu.VerifyOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "202-555-0123", ["defaultCountry"] = "US", ["code"] = code })).EnsureStatus(200);
        Assert.Equal(first["session"]["consumerId"].GetValue<string>(), second["session"]["consumerId"].GetValue<string>());
    }

    [Fact]
    public async Task Code_expires_after_ten_minutes()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("late@example.com"))).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("late@example.com");

        await emu.AdvanceClockAsync(601);
        (await emu.VerifyOtpAsync(org.PublishableKey, Email("late@example.com", code))).AssertBody(401, Expired);
    }

    [Fact]
    public async Task Code_is_still_valid_just_before_ten_minutes()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("ontime@example.com"))).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("ontime@example.com");
        await emu.AdvanceClockAsync(590);
        (await emu.VerifyOtpAsync(org.PublishableKey, Email("ontime@example.com", code))).EnsureStatus(200);
    }

    [Fact]
    public async Task Code_is_single_use()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("once@example.com"))).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("once@example.com");
        (await emu.VerifyOtpAsync(org.PublishableKey, Email("once@example.com", code))).EnsureStatus(200);
        (await emu.VerifyOtpAsync(org.PublishableKey, Email("once@example.com", code))).AssertBody(401, Invalid);
    }

    [Fact]
    public async Task Wrong_code_is_otp_invalid_and_the_right_code_still_works_after_four_wrong_tries()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("typo@example.com"))).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("typo@example.com");
        var wrong = code == "000000" ? "111111" : "000000";
        for (int i = 0; i < 4; i++)
            (await emu.VerifyOtpAsync(org.PublishableKey, Email("typo@example.com", wrong))).AssertBody(401, Invalid);
        (await emu.VerifyOtpAsync(org.PublishableKey, Email("typo@example.com", code))).EnsureStatus(200);
    }

    [Fact]
    public async Task Five_wrong_tries_burn_the_code()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("guesser@example.com"))).EnsureStatus(200);
        var code = await emu.LatestCodeAsync("guesser@example.com");
        var wrong = code == "000000" ? "111111" : "000000";
        for (int i = 0; i < 5; i++)
            (await emu.VerifyOtpAsync(org.PublishableKey, Email("guesser@example.com", wrong))).AssertBody(401, Invalid);

        var sixth = await emu.VerifyOtpAsync(org.PublishableKey, Email("guesser@example.com", code));
        Assert.Equal(401, sixth.Code);
        Assert.Contains(sixth.Json?["error"]?.GetValue<string>(), new[] { "otp_expired", "otp_invalid" });
        Assert.Null(sixth.Json?["accessToken"]);

        // A new code works again.
        (await emu.RequestOtpAsync(org.PublishableKey, Email("guesser@example.com"))).EnsureStatus(200);
        code = await emu.LatestCodeAsync("guesser@example.com");
        (await emu.VerifyOtpAsync(org.PublishableKey, Email("guesser@example.com", code))).EnsureStatus(200);
    }

    [Fact]
    public async Task Verifying_with_a_guest_session_keeps_the_guest_consumerId()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var (guestId, guestAccess, _) = await emu.GuestAsync(org.PublishableKey);

        var r = await emu.EmailSignInAsync(org.PublishableKey, "upgrade@example.com", guestAccess);
        Assert.Equal(guestId, r["session"]!["consumerId"]!.GetValue<string>());
        Assert.Equal("authenticated", r["session"]!["type"]!.GetValue<string>());
        var claims = Jwt.Payload(r["accessToken"]!.GetValue<string>());
        Assert.Equal(guestId, claims["consumerId"]!.GetValue<string>());
        Assert.False(claims["isGuest"]!.GetValue<bool>());

        // Signing in again later (no guest) finds the same consumer by email.
        var again = await emu.EmailSignInAsync(org.PublishableKey, "upgrade@example.com");
        Assert.Equal(guestId, again["session"]!["consumerId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seeded_recipients_have_fixed_codes()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, Email("demo@fanfare.test"))).EnsureStatus(200);
        Assert.Equal("123456", await emu.LatestCodeAsync("demo@fanfare.test"));
        var r = (await emu.VerifyOtpAsync(org.PublishableKey, Email("demo@fanfare.test", "123456"))).EnsureStatus(200);
        Assert.Equal("demo@fanfare.test", r["session"]["email"].GetValue<string>());

        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+15555550100" })).EnsureStatus(200);
        Assert.Equal("123456", await emu.LatestCodeAsync("+15555550100", sms: true));
    }

    [Fact]
    public async Task OtpFixedCode_option_fixes_every_code()
    {
        await using var fixedEmu = await EmulatorServer.StartAsync(o => o.OtpFixedCode = "424242");
        var org = await fixedEmu.DemoOrgAsync();
        (await fixedEmu.RequestOtpAsync(org.PublishableKey, Email("anyone@example.com"))).EnsureStatus(200);
        Assert.Equal("424242", await fixedEmu.LatestCodeAsync("anyone@example.com"));
        (await fixedEmu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+12025550123" })).EnsureStatus(200);
        Assert.Equal("424242", await fixedEmu.LatestCodeAsync("+12025550123", sms: true));
        (await fixedEmu.VerifyOtpAsync(org.PublishableKey, Email("anyone@example.com", "424242"))).EnsureStatus(200);
    }

    [Fact]
    public async Task More_than_ten_requests_a_minute_for_one_recipient_are_429()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        await emu.FreezeClockAsync();
        for (int i = 0; i < 10; i++)
            (await emu.RequestOtpAsync(org.PublishableKey, Email("spam@example.com"))).EnsureStatus(200);

        var limited = await emu.RequestOtpAsync(org.PublishableKey, Email("spam@example.com"));
        limited.AssertError(429, "Rate limit exceeded");
        Assert.True(limited.Headers.RetryAfter is not null, "429 must carry Retry-After");

        // Per recipient: someone else is not limited.
        (await emu.RequestOtpAsync(org.PublishableKey, Email("other@example.com"))).EnsureStatus(200);
        // A minute later the window has passed.
        await emu.AdvanceClockAsync(61);
        (await emu.RequestOtpAsync(org.PublishableKey, Email("spam@example.com"))).EnsureStatus(200);
    }
}
