using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Messaging;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Experiences.Pages;

/// <summary>A page of an experience (admin-part2.md <c>ExperiencePage</c>), published as HTML by the emulator.</summary>
public sealed class ExperiencePage : IDocument
{
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public bool Archived { get; set; }
    public string ExperienceId { get; set; } = "";
    public string Slug { get; set; } = "";
    public string Title { get; set; } = "";
    public JsonObject CreativeDocument { get; set; } = [];
    public string? CreativeDesignId { get; set; }
    public string? CreativeTemplateKey { get; set; }
    public DateTimeOffset? LastPublishedAt { get; set; }
    public JsonObject? Metadata { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
    /// <summary><c>DRAFT</c> or <c>PUBLISHED</c>.</summary>
    public string Status { get; set; } = "DRAFT";
    public DateTimeOffset? UpdatedAt { get; set; }
    public string? UpdatedBy { get; set; }

    public JsonObject ToJson() => new()
    {
        ["id"] = Id, ["organizationId"] = OrganizationId, ["createdAt"] = Json.Iso(CreatedAt), ["createdBy"] = CreatedBy,
        ["archived"] = Archived, ["experienceId"] = ExperienceId, ["slug"] = Slug, ["title"] = Title,
        ["creativeDocument"] = CreativeDocument.DeepClone(), ["creativeDesignId"] = CreativeDesignId,
        ["creativeTemplateKey"] = CreativeTemplateKey, ["lastPublishedAt"] = Json.Iso(LastPublishedAt),
        ["metadata"] = Metadata?.DeepClone(), ["publishedAt"] = Json.Iso(PublishedAt), ["status"] = Status,
        ["updatedAt"] = Json.Iso(UpdatedAt), ["updatedBy"] = UpdatedBy,
    };
}

/// <summary>
/// Experience pages (no HTTP types): create-and-publish, update-and-republish, delete (archive). A slug is unique among
/// an organization's live pages; the experience must be the organization's.
/// </summary>
public sealed class ExperiencePageService(DocumentStore store, IdGenerator ids, ClockResolver clocks, IServiceProvider services)
{
    public const string NotFound = "Page not found";

    private ExperienceService Experiences => services.GetRequiredService<ExperienceService>();

    public List<ExperiencePage> List(string orgId) => store.Where<ExperiencePage>(p => p.OrganizationId == orgId && !p.Archived);

    public ExperiencePage Require(string orgId, string id) =>
        store.Get<ExperiencePage>(id) is { } p && p.OrganizationId == orgId && !p.Archived ? p : throw ApiErrors.NotFoundError(NotFound);

    /// <summary>The live, published page at <paramref name="slug"/>: of <paramref name="orgId"/> when given, else of any organization.</summary>
    public ExperiencePage? Published(string slug, string? orgId) =>
        store.First<ExperiencePage>(p => !p.Archived && p.Status == "PUBLISHED" && p.Slug == slug && (orgId is null || p.OrganizationId == orgId));

    public ExperiencePage Create(Organization org, BodyReader body, string actor)
    {
        var experienceId = RequestChecks.Uuid(body, "experienceId", required: true);
        var slug = body.String("slug", required: true, minLength: 1);
        var title = body.String("title", required: true, minLength: 1);
        var doc = CreativeDocuments.Read(body, "creativeDocument", required: true, nullable: false, strict: true);
        var designId = RequestChecks.Uuid(body, "creativeDesignId", nullable: true);
        var templateKey = body.String("creativeTemplateKey", nullable: true);
        var metadata = body.Object("metadata", nullable: true);
        body.ThrowIfInvalid();
        Experiences.Require(org.Id, experienceId);
        CheckSlug(org.Id, slug!, null);
        return store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            var p = new ExperiencePage
            {
                Id = ids.NewUuid("experience-page"), OrganizationId = org.Id, CreatedAt = now, CreatedBy = actor,
                ExperienceId = experienceId!, Slug = slug!, Title = title!, CreativeDocument = (JsonObject)doc!.DeepClone(),
                CreativeDesignId = designId, CreativeTemplateKey = templateKey, Metadata = (JsonObject?)metadata?.DeepClone(),
                Status = "PUBLISHED", PublishedAt = now, LastPublishedAt = now,
            };
            return store.Put(p);
        });
    }

    public ExperiencePage Update(Organization org, string id, BodyReader body, string actor)
    {
        var p = Require(org.Id, id);
        var slug = body.String("slug", minLength: 1);
        var title = body.String("title", minLength: 1);
        var doc = CreativeDocuments.Read(body, "creativeDocument", required: false, nullable: false, strict: true);
        var designId = RequestChecks.Uuid(body, "creativeDesignId", nullable: true);
        var templateKey = body.String("creativeTemplateKey", nullable: true);
        var metadata = body.Object("metadata", nullable: true);
        body.ThrowIfInvalid();
        if (slug is not null) CheckSlug(org.Id, slug, p.Id);
        return store.Transaction(() =>
        {
            var now = clocks.For(org.Id).GetUtcNow();
            if (slug is not null) p.Slug = slug;
            if (title is not null) p.Title = title;
            if (doc is not null) p.CreativeDocument = (JsonObject)doc.DeepClone();
            if (body.Root.ContainsKey("creativeDesignId")) p.CreativeDesignId = designId;
            if (body.Root.ContainsKey("creativeTemplateKey")) p.CreativeTemplateKey = templateKey;
            if (body.Root.ContainsKey("metadata")) p.Metadata = (JsonObject?)metadata?.DeepClone();
            p.Status = "PUBLISHED";
            p.PublishedAt ??= now;
            p.LastPublishedAt = now;
            p.UpdatedAt = now; p.UpdatedBy = actor;
            return store.Put(p);
        });
    }

    /// <summary>DELETE: archives the page; it is no longer served.</summary>
    public ExperiencePage Delete(Organization org, string id, string actor)
    {
        var p = Require(org.Id, id);
        return store.Transaction(() =>
        {
            p.Archived = true;
            p.UpdatedAt = clocks.For(org.Id).GetUtcNow(); p.UpdatedBy = actor;
            return store.Put(p);
        });
    }

    private void CheckSlug(string orgId, string slug, string? exceptId)
    {
        if (store.First<ExperiencePage>(p => p.OrganizationId == orgId && !p.Archived && p.Slug == slug && p.Id != exceptId) is not null)
            throw Validation.Single("slug", "unique", "an unused slug", $"\"{slug}\"", $"Invalid value: slug \"{slug}\" is already used by another page");
    }
}
