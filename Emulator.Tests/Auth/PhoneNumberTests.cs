using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Auth;

/// <summary>Issue 10 §3: phone numbers follow real numbering plans (libphonenumber): trunk prefix dropped, unknown country
/// codes refused with the documented 400, possible-but-fictional numbers (the seed's +15555550100) accepted.</summary>
public sealed class PhoneNumberTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    [Theory]
    [InlineData("+44 020 7946 0000", null, "+442079460000")]
    [InlineData("020 7946 0000", "GB", "+442079460000")]
    [InlineData("0044 20 7946 0000", null, "+442079460000")]
    [InlineData("+15555550100", null, "+15555550100")]
    [InlineData("(202) 555-0123", "US", "+12025550123")]
    [InlineData("06 12 34 56 78", "FR", "+33612345678")]
    [InlineData("030 1234567", "de", "+49301234567")]
    [InlineData("+81 3-1234-5678", null, "+81312345678")]
    public void Normalises_to_E164(string input, string? country, string e164) => Assert.Equal(e164, Fanfare.Emulator.Auth.PhoneNumbers.Normalize(input, country));

    [Theory]
    [InlineData("+999 123 456 789", null)]
    [InlineData("+1 555", null)]
    [InlineData("call me", null)]
    [InlineData("12", "US")]
    public void Refuses_impossible_numbers(string input, string? country) => Assert.Null(Fanfare.Emulator.Auth.PhoneNumbers.Normalize(input, country));

    [Fact]
    public async Task Otp_request_uses_the_real_plan_and_refuses_unknown_country_codes()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+44 020 7946 0000" })).EnsureStatus(200);
        var sms = await emu.Control.GetJsonAsync("/_emulator/sms/latest?to=" + Uri.EscapeDataString("+442079460000"));
        Assert.Equal("+442079460000", sms["to"]!.GetValue<string>());

        var issues = (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+9991234567890" })).AssertValidationError();
        Assert.StartsWith("Invalid phone", issues.IssueAt("phone")["message"]!.GetValue<string>());

        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "+15555550100" })).EnsureStatus(200);
        (await emu.RequestOtpAsync(org.PublishableKey, new JsonObject { ["phone"] = "2025550123", ["defaultCountry"] = "XX" }))
            .AssertValidationError().IssueAt("defaultCountry");
    }
}
