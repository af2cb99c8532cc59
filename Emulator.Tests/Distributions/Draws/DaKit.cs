using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Events;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Draws;

/// <summary>Shared set-up for the draw and auction tests: a frozen clock and a sequence fixture in the store.</summary>
public static class DaKit
{
    /// <summary>The instant every test freezes the clock at.</summary>
    public static readonly DateTimeOffset T0 = new(2031, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public const string SequenceId = "0190aaaa-0000-7000-8000-00000000d0a1";
    public const string ExperienceId = "0190aaaa-0000-7000-8000-00000000e0a1";

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    /// <summary>Reset, freeze at <see cref="T0"/>, and put an experience + sequence with fixed ids for the demo organization
    /// into the emulator's state (through the control plane, <see cref="StateKit"/>).</summary>
    public static async Task<OrgKeys> SetUpAsync(EmulatorServer emu)
    {
        await emu.ResetAsync();
        await emu.FreezeClockAsync(T0);
        var org = await emu.DemoOrgAsync();
        PutSequence(emu, org.Id);
        return org;
    }

    public static void PutSequence(EmulatorServer emu, string orgId, string sequenceId = SequenceId, string experienceId = ExperienceId)
    {
        emu.PutDocuments(
            new Experience { Id = experienceId, OrganizationId = orgId, Name = "Fixture drop", CreatedAt = T0, CreatedBy = "test" },
            new Sequence { Id = sequenceId, OrganizationId = orgId, ExperienceId = experienceId, Name = "General", CreatedAt = T0, CreatedBy = "test" });
    }

    public static List<OutboxEvent> Events(EmulatorServer emu, string type) =>
        emu.Documents<OutboxEvent>().Where(e => e.Type == type).ToList();

    /// <summary>A verified consumer (email OTP through the fake inbox) → (consumerId, accessToken).</summary>
    public static async Task<(string ConsumerId, string AccessToken)> VerifiedAsync(EmulatorServer emu, string pk, string email)
    {
        var r = await emu.SignInByEmailAsync(pk, email);
        return (r["session"]!["consumerId"]!.GetValue<string>(), r["accessToken"]!.GetValue<string>());
    }

    public static async Task<JsonNode> CreateAsync(EmulatorServer emu, OrgKeys org, string path, JsonObject body)
    {
        body["sequenceId"] ??= SequenceId;
        return (await emu.Admin.PostJsonAsync(path, body, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200).Json!;
    }

    public static Task<ApiResponse> Validate(EmulatorServer emu, OrgKeys org, string path, string consumerId, string? token = null)
    {
        var body = new JsonObject { ["consumerId"] = consumerId };
        if (token is not null) body["token"] = token;
        return emu.Consumer.PostJsonAsync(path, body, HttpClientExtensions.Sk(org.SecretKey));
    }
}
