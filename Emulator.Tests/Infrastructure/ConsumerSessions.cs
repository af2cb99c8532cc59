using System.Text.Json.Nodes;

namespace Fanfare.Emulator.Tests.Infrastructure;

/// <summary>Shortcuts to get a signed-in consumer over HTTP, for tests of features that need one.</summary>
public static class ConsumerSessions
{
    /// <summary><c>POST /auth/guest</c> → (consumerId, accessToken, refreshToken).</summary>
    public static async Task<(string ConsumerId, string AccessToken, string RefreshToken)> GuestAsync(this EmulatorServer emu, string publishableKey)
    {
        var r = (await emu.Consumer.PostJsonAsync("/auth/guest", null, HttpClientExtensions.Pk(publishableKey))).EnsureStatus(200);
        return (r["session"]["consumerId"].GetValue<string>(), r["accessToken"].GetValue<string>(), r["refreshToken"].GetValue<string>());
    }

    /// <summary>Email OTP round trip (code read from the fake inbox) → the session response.</summary>
    public static async Task<JsonNode> SignInByEmailAsync(this EmulatorServer emu, string publishableKey, string email, string? guestAccessToken = null)
    {
        (await emu.Consumer.PostJsonAsync("/auth/otp/request", new JsonObject { ["email"] = email }, HttpClientExtensions.Pk(publishableKey))).EnsureStatus(200);
        var msg = await emu.Control.GetJsonAsync($"/_emulator/inbox/latest?to={Uri.EscapeDataString(email)}&waitSeconds=5");
        var code = msg["code"]!.GetValue<string>();
        var r = (await emu.Consumer.PostJsonAsync("/auth/otp/verify", new JsonObject { ["email"] = email, ["code"] = code },
            HttpClientExtensions.Pk(publishableKey, guestAccessToken))).EnsureStatus(200);
        return r.Json!;
    }
}
