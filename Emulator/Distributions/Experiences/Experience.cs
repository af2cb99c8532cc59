using System.Text.Json.Nodes;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Experiences;

/// <summary>An experience (a drop's container: products, timing derived from its distributions, theme, i18n).
/// Shapes: admin-part2.md <c>POST /experiences</c>, admin-part3.md <c>GET /experiences/{id}</c>.</summary>
public sealed class Experience : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? TimeZone { get; set; }
    public string? AccessCode { get; set; }
    public JsonObject? Theme { get; set; }
    public JsonObject? I18n { get; set; }
    public JsonArray? Products { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
    /// <summary>Extra contract fields not modelled above, kept verbatim.</summary>
    public JsonObject? Extra { get; set; }
}

/// <summary>A sequence (an access path inside an experience; behavior.md §3.1). Shapes: admin-part4.md <c>/sequences</c>.</summary>
public sealed class Sequence : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string ExperienceId { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>Higher is evaluated first by routing.</summary>
    public double Priority { get; set; }
    public string? AudienceId { get; set; }
    public string? AccessCode { get; set; }
    public string? ProductSelectionMode { get; set; }
    public JsonArray? SequenceProducts { get; set; }
    public string? Color { get; set; }
    public bool Archived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }
    public JsonObject? Extra { get; set; }
}
