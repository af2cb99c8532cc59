using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions.Experiences;

namespace Fanfare.Emulator.Tests.Distributions.Experiences;

/// <summary>The seed's relative times (<c>"+P7D"</c>, <c>"-PT1H"</c>) resolved against the clock: the seed's forms become
/// instants; what is not a duration stays as written (and so fails the field's own check, as before).</summary>
public sealed class RelativeTimeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("+PT0S", "2026-11-30T10:00:00.000Z")]
    [InlineData("+P7D", "2026-12-07T10:00:00.000Z")]
    [InlineData("+P1D", "2026-12-01T10:00:00.000Z")]
    [InlineData("+P8D", "2026-12-08T10:00:00.000Z")]
    [InlineData("-PT1H", "2026-11-30T09:00:00.000Z")]
    [InlineData("+PT1H30M", "2026-11-30T11:30:00.000Z")]
    [InlineData("+PT0.25S", "2026-11-30T10:00:00.250Z")]
    [InlineData("+P1M", "2026-12-30T10:00:00.000Z")]
    // Not durations (weeks, no component, a fraction of days …): left as they are.
    [InlineData("+P1W", "+P1W")]
    [InlineData("+PT", "+PT")]
    [InlineData("+P1.5D", "+P1.5D")]
    [InlineData("+P1", "+P1")]
    [InlineData("+PT1D", "+PT1D")]
    [InlineData("+P99999999999D", "+P99999999999D")]
    [InlineData("P1D", "P1D")]
    [InlineData("2026-11-30T10:00:00Z", "2026-11-30T10:00:00Z")]
    public void Resolves_durations_against_now_and_leaves_the_rest(string written, string expected)
    {
        var node = new JsonObject { ["openAt"] = written, ["nested"] = new JsonArray(new JsonObject { ["closeAt"] = written }) };
        var resolved = ExperiencesApi.ResolveRelative(node, Now)!;
        Assert.Equal(expected, resolved["openAt"]!.GetValue<string>());
        Assert.Equal(expected, resolved["nested"]![0]!["closeAt"]!.GetValue<string>());
    }
}
