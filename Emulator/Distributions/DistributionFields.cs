using Fanfare.Emulator.Distributions.Model;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions;

/// <summary>
/// Reads the fields every admin distribution body shares (<c>name</c>, <c>timeZone</c>, <c>openAt</c>, <c>closeAt</c>;
/// admin-part4.md <c>POST/PUT /queues</c>, <c>/timed-releases</c>) and fills the common document fields. Timestamps are
/// ISO 8601, stored UTC. <c>closeAt</c> must be after <c>openAt</c>.
/// </summary>
internal static class DistributionFields
{
    /// <summary>The actor recorded in <c>createdBy</c>/<c>updatedBy</c> for calls made with a secret key.</summary>
    public const string ApiActor = "api";

    /// <summary>Create: reads <c>name</c> (required), <c>timeZone</c>, <c>openAt</c>, <c>closeAt</c> into <paramref name="d"/>.</summary>
    public static void ReadCreate(BodyReader body, DistributionBase d, Organization org, Sequence sequence, DocumentStore store,
        string actor, DateTimeOffset now)
    {
        d.OrganizationId = org.Id;
        d.SequenceId = sequence.Id;
        d.ExperienceId = sequence.ExperienceId;
        d.Name = body.String("name", required: true, minLength: 1) ?? "";
        var tz = body.String("timeZone", nullable: true, minLength: 1);
        d.TimeZone = tz ?? store.Get<Experience>(sequence.ExperienceId)?.TimeZone ?? org.TimeZone ?? "UTC";
        d.OpenAt = body.DateTime("openAt");
        d.CloseAt = body.DateTime("closeAt");
        CheckWindow(body, d);
        d.CreatedAt = now;
        d.CreatedBy = actor;
    }

    /// <summary>Update: only the fields present change; <c>openAt</c>/<c>closeAt</c> may be set to null. Adds the changed
    /// contract field names to <paramref name="changed"/>.</summary>
    public static void ReadUpdate(BodyReader body, DistributionBase d, List<string> changed)
    {
        if (body.Root.ContainsKey("name") && body.String("name", required: true, minLength: 1) is { } name && name != d.Name)
        { d.Name = name; changed.Add("name"); }
        if (body.Root.ContainsKey("timeZone") && body.String("timeZone", required: true, minLength: 1) is { } tz && tz != d.TimeZone)
        { d.TimeZone = tz; changed.Add("timeZone"); }
        if (body.Root.ContainsKey("openAt"))
        {
            var v = body.DateTime("openAt");
            if (v != d.OpenAt) { d.OpenAt = v; changed.Add("openAt"); }
        }
        if (body.Root.ContainsKey("closeAt"))
        {
            var v = body.DateTime("closeAt");
            if (v != d.CloseAt) { d.CloseAt = v; changed.Add("closeAt"); }
        }
        CheckWindow(body, d);
    }

    private static void CheckWindow(BodyReader body, DistributionBase d)
    {
        if (d.OpenAt is { } o && d.CloseAt is { } c && c <= o)
            body.AddIssue("closeAt", "check", "closeAt after openAt", body.Root["closeAt"], "Invalid value: closeAt must be after openAt");
    }

    /// <summary>The <c>Retry-After</c> value of a 423: the ISO instant it opens, e.g. <c>2024-12-01T09:00:00Z</c>.</summary>
    public static string RetryAfter(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
