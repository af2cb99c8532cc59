using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Experiences.Pages;

/// <summary>
/// Experience pages (admin-part2.md, secret key), all 200:
/// <list type="bullet">
/// <item><c>GET /experience-pages</c> → <c>{data:[ExperiencePage], pageInfo}</c> (cursor pagination; deleted pages left out).</item>
/// <item><c>POST /experience-pages</c> <c>{experienceId, slug, title, creativeDocument, creativeDesignId?, creativeTemplateKey?,
/// metadata?}</c> → the page, published (<c>status:"PUBLISHED"</c>, <c>publishedAt</c> = <c>lastPublishedAt</c> = now).</item>
/// <item><c>GET|PUT|DELETE /experience-pages/{id}</c> → the page; PUT republishes (<c>lastPublishedAt</c>); DELETE archives
/// it and stops serving it. 404 <c>Page not found</c>.</item>
/// </list>
/// <c>creativeDocument</c> is checked as the contract's <c>oneOf</c> (see <see cref="Messaging.CreativeDocuments"/>).
/// Errors: 400 <c>validation_error</c> (also for a slug another live page of the organization uses), 404 <c>Experience not found</c>.
/// <para>Served HTML, consumer port (e.g. <c>http://localhost:4802</c>), no key needed:
/// <c>GET /pages/{slug}</c> (the published page with that slug; when organizations share a slug, <c>?organizationId=</c> or
/// <c>X-Publishable-Key</c> picks one, else the oldest) and <c>GET /pages/{organizationSlug}/{slug}</c>. 404 is an HTML page.</para>
/// </summary>
public sealed class ExperiencePagesApi : IFeatureModule
{
    public void AddServices(IServiceCollection services, EmulatorOptions options) => services.AddSingleton<ExperiencePageService>();

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/experience-pages").WithTags("Experiences");

        g.MapGet("", (HttpRequest req, Caller caller, ExperiencePageService pages) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(Pagination.Page(pages.List(org.Id), p => p.Id, p => p.ToJson(), req.Query));
        }).WithName("getExperiencePages").WithSummary("List pages");

        g.MapPost("", async (HttpRequest req, Caller caller, ExperiencePageService pages) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            return Results.Json(pages.Create(org, body, caller.Actor()).ToJson());
        }).WithName("postExperiencePages").WithSummary("Create and publish a page");

        g.MapGet("/{id}", (string id, Caller caller, ExperiencePageService pages) =>
            Results.Json(pages.Require(caller.RequireSecret().Id, id).ToJson())).WithName("getExperiencePagesById").WithSummary("Get a page");

        g.MapPut("/{id}", async (string id, HttpRequest req, Caller caller, ExperiencePageService pages) =>
        {
            var org = caller.RequireSecret();
            pages.Require(org.Id, id);
            var body = await BodyReader.ReadAsync(req, required: true);
            return Results.Json(pages.Update(org, id, body, caller.Actor()).ToJson());
        }).WithName("putExperiencePagesById").WithSummary("Update a published page");

        g.MapDelete("/{id}", (string id, Caller caller, ExperiencePageService pages) =>
        {
            var org = caller.RequireSecret();
            return Results.Json(pages.Delete(org, id, caller.Actor()).ToJson());
        }).WithName("deleteExperiencePagesById").WithSummary("Delete a page");

        routes.Consumer.MapGet("/pages/{slug}", (string slug, HttpRequest req, ExperiencePageService pages, OrganizationDirectory orgs, ExperienceService experiences) =>
        {
            var orgId = req.Query["organizationId"].FirstOrDefault()
                ?? orgs.ByKey(req.Headers["X-Publishable-Key"].FirstOrDefault())?.Org.Id;
            return Serve(pages.Published(slug, orgId), slug, orgs, experiences);
        }).WithTags("Pages").WithName("emulatorServePage").WithSummary("A published experience page as HTML (emulator)");

        routes.Consumer.MapGet("/pages/{organizationSlug}/{slug}", (string organizationSlug, string slug, ExperiencePageService pages, OrganizationDirectory orgs, ExperienceService experiences) =>
        {
            var org = orgs.All().FirstOrDefault(o => o.Slug == organizationSlug);
            return Serve(org is null ? null : pages.Published(slug, org.Id), slug, orgs, experiences);
        }).WithTags("Pages").WithName("emulatorServeOrganizationPage").WithSummary("A published experience page of one organization as HTML (emulator)");
    }

    private static IResult Serve(ExperiencePage? page, string slug, OrganizationDirectory orgs, ExperienceService experiences)
    {
        var org = page is null ? null : orgs.ById(page.OrganizationId);
        if (page is null || org is null) return Results.Content(ExperiencePageHtml.NotFound(slug), "text/html; charset=utf-8", statusCode: 404);
        var e = experiences.Find(org.Id, page.ExperienceId);
        JsonObject? view = e is null ? null : experiences.ConsumerJson(e, org);
        return Results.Content(ExperiencePageHtml.Render(page, org, view), "text/html; charset=utf-8");
    }
}
