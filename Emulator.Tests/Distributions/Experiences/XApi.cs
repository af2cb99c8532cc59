using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Experiences;

/// <summary>HTTP shortcuts for the experience / sequence / appointment / waitlist tests.</summary>
public static class XApi
{
    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    /// <summary><c>POST /experiences</c> (200 expected) → the created Experience with sequences.</summary>
    public static async Task<JsonNode> CreateExperienceAsync(this EmulatorServer emu, string sk, JsonObject body) =>
        (await emu.Admin.PostJsonAsync("/experiences", body, HttpClientExtensions.Sk(sk))).EnsureStatus(200).Json!;

    /// <summary>An experience with one sequence holding one appointment; returns (experienceId, sequenceId, appointmentId).</summary>
    public static async Task<(string ExperienceId, string SequenceId, string AppointmentId)> ExperienceWithAppointmentAsync(
        this EmulatorServer emu, string sk, DateTimeOffset? openAt, DateTimeOffset? closeAt, int duration = 30, int buffer = 10, int capacity = 1,
        string name = "Tasting")
    {
        var appointment = new JsonObject { ["name"] = name + " session", ["slotDurationMinutes"] = duration, ["bufferMinutes"] = buffer, ["maxCapacityPerSlot"] = capacity };
        if (openAt is { } o) appointment["openAt"] = Iso(o);
        if (closeAt is { } c) appointment["closeAt"] = Iso(c);
        var e = await emu.CreateExperienceAsync(sk, new JsonObject
        {
            ["name"] = name, ["timeZone"] = "UTC",
            ["sequence"] = new JsonObject { ["name"] = "Main", ["appointments"] = new JsonArray(appointment) },
        });
        var seq = e["sequences"]![0]!;
        return (e["id"]!.GetValue<string>(), seq["id"]!.GetValue<string>(), seq["appointments"]![0]!["id"]!.GetValue<string>());
    }

    /// <summary>A verified (email OTP) consumer → (consumerId, accessToken).</summary>
    public static async Task<(string ConsumerId, string Token)> VerifiedAsync(this EmulatorServer emu, string pk, string email)
    {
        var s = await emu.SignInByEmailAsync(pk, email);
        return (s["session"]!["consumerId"]!.GetValue<string>(), s["accessToken"]!.GetValue<string>());
    }

    public static Dictionary<string, string> As(string pk, string token) => HttpClientExtensions.Pk(pk, token);
}
