using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Auth;
using Fanfare.Emulator.Tests.Distributions.Experiences;
using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Distributions.Experiences.Pages;

/// <summary>Experience pages (admin-part2.md): CRUD with the contract shape, the creativeDocument oneOf, and the published
/// page served as HTML on the consumer port (<c>GET /pages/{slug}</c>).</summary>
public sealed class ExperiencePagesTests(EmulatorServer emu) : IClassFixture<EmulatorServer>
{
    private static readonly string[] Required = ["id", "organizationId", "createdAt", "createdBy", "archived", "experienceId", "slug", "title", "creativeDocument"];

    private static JsonObject RichDocument() => new()
    {
        ["schemaVersion"] = 1, ["kind"] = "experience-page", ["editor"] = "rich-content-v0",
        ["body"] = new JsonObject
        {
            ["nodes"] = new JsonArray(
                new JsonObject { ["type"] = "heading", ["level"] = 2, ["content"] = "Be first in line" },
                new JsonObject { ["type"] = "p", ["content"] = "Doors open <soon>." },
                new JsonObject { ["type"] = "button", ["href"] = "https://shop.example/enter", ["content"] = "Join the queue" }),
        },
        ["themeOverrides"] = new JsonObject { ["primary"] = "#ff5500", ["variant"] = "retro" },
    };

    private async Task<(OrgKeys Org, string ExperienceId)> SetupAsync()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        var e = await emu.CreateExperienceAsync(org.SecretKey, new JsonObject
        {
            ["name"] = "Summer Sneaker Drop", ["timeZone"] = "UTC", ["theme"] = new JsonObject { ["primary"] = "#000000", ["background"] = "#fafafa" },
        });
        return (org, e["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Crud_returns_the_page_shape_and_publishes()
    {
        var (org, exp) = await SetupAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        var created = (await emu.Admin.PostJsonAsync("/experience-pages", new JsonObject
        {
            ["experienceId"] = exp, ["slug"] = "summer-drop", ["title"] = "Summer Drop", ["creativeDocument"] = RichDocument(),
            ["metadata"] = new JsonObject { ["campaign"] = "summer" },
        }, sk)).EnsureStatus(200);
        foreach (var f in Required) Assert.True(created.Json![f] is not null, $"{f} missing: {created.Text}");
        Assert.Equal("PUBLISHED", created["status"].GetValue<string>());
        Assert.Equal(created["publishedAt"].GetValue<string>(), created["lastPublishedAt"].GetValue<string>());
        Assert.Equal("rich-content-v0", created["creativeDocument"]["editor"].GetValue<string>());
        Assert.Equal("summer", created["metadata"]["campaign"].GetValue<string>());
        var id = created["id"].GetValue<string>();

        Assert.True(JsonNode.DeepEquals(created.Json, (await emu.Admin.GetAsync($"/experience-pages/{id}", sk)).EnsureStatus(200).Json));
        var list = (await emu.Admin.GetAsync("/experience-pages", sk)).EnsureStatus(200);
        Assert.Single(list["data"].AsArray());
        Assert.True(list["pageInfo"].AsObject().ContainsKey("startCursor"));

        await emu.AdvanceClockAsync(60);
        var put = (await emu.Admin.SendJsonAsync(HttpMethod.Put, $"/experience-pages/{id}", new JsonObject { ["title"] = "Summer Drop 2", ["slug"] = "summer-2" }, sk)).EnsureStatus(200);
        Assert.Equal("Summer Drop 2", put["title"].GetValue<string>());
        Assert.Equal("summer-2", put["slug"].GetValue<string>());
        Assert.NotEqual(put["publishedAt"].GetValue<string>(), put["lastPublishedAt"].GetValue<string>());

        // A second page may not take a slug in use.
        var dup = await emu.Admin.PostJsonAsync("/experience-pages", new JsonObject
        {
            ["experienceId"] = exp, ["slug"] = "summer-2", ["title"] = "Copy", ["creativeDocument"] = RichDocument(),
        }, sk);
        dup.AssertValidationError().IssueAt("slug");

        var deleted = (await emu.Admin.SendAsync(HttpMethod.Delete, $"/experience-pages/{id}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        (await emu.Admin.GetAsync($"/experience-pages/{id}", sk)).AssertError(404, "Page not found");
        Assert.Empty((await emu.Admin.GetAsync("/experience-pages", sk))["data"].AsArray());
        Assert.Equal(404, (await emu.Consumer.GetAsync("/pages/summer-2", null)).Code);
    }

    [Fact]
    public async Task Creative_document_is_checked_as_the_contract_oneOf()
    {
        var (org, exp) = await SetupAsync();
        var sk = HttpClientExtensions.Sk(org.SecretKey);
        JsonObject Page(JsonNode? doc) => new() { ["experienceId"] = exp, ["slug"] = "p" + Guid.NewGuid().ToString("N")[..6], ["title"] = "T", ["creativeDocument"] = doc };

        // Each of the three variants is accepted.
        (await emu.Admin.PostJsonAsync("/experience-pages", Page(new JsonObject
        {
            ["schemaVersion"] = 1, ["kind"] = "announcement-email", ["editor"] = "email-components-v1",
            ["body"] = new JsonObject { ["subjectTemplate"] = "Hi", ["nodes"] = new JsonArray() },
        }), sk)).EnsureStatus(200);
        (await emu.Admin.PostJsonAsync("/experience-pages", Page(new JsonObject
        {
            ["schemaVersion"] = 1, ["kind"] = "transactional-sms", ["editor"] = "sms-text-v1", ["body"] = new JsonObject { ["textTemplate"] = "Hi" },
        }), sk)).EnsureStatus(200);
        (await emu.Admin.PostJsonAsync("/experience-pages", Page(RichDocument()), sk)).EnsureStatus(200);

        // Mismatched editor, missing body fields, bad version, bad theme variant, null document, missing fields.
        var issues = (await emu.Admin.PostJsonAsync("/experience-pages", Page(new JsonObject
        {
            ["schemaVersion"] = 2, ["kind"] = "announcement-sms", ["editor"] = "email-components-v1", ["body"] = new JsonObject(),
            ["themeOverrides"] = new JsonObject { ["variant"] = "neon" },
        }), sk)).AssertValidationError();
        issues.IssueAt("schemaVersion"); issues.IssueAt("editor"); issues.IssueAt("variant");
        (await emu.Admin.PostJsonAsync("/experience-pages", Page(new JsonObject
        {
            ["schemaVersion"] = 1, ["kind"] = "announcement-email", ["editor"] = "email-components-v1", ["body"] = new JsonObject(),
        }), sk)).AssertValidationError().IssueAt("subjectTemplate");
        (await emu.Admin.PostJsonAsync("/experience-pages", Page(null), sk)).AssertValidationError().IssueAt("creativeDocument");
        issues = (await emu.Admin.PostJsonAsync("/experience-pages", new JsonObject(), sk)).AssertValidationError();
        foreach (var k in new[] { "experienceId", "slug", "title", "creativeDocument" }) issues.IssueAt(k);
        var unknown = Page(RichDocument());
        unknown["experienceId"] = "00000000-0000-4000-8000-000000000999";
        (await emu.Admin.PostJsonAsync("/experience-pages", unknown, sk)).AssertError(404, "Experience not found");
        Assert.Equal(3, (await emu.Admin.GetAsync("/experience-pages", sk))["data"].AsArray().Count);
    }

    [Fact]
    public async Task Published_page_is_served_as_html_on_the_consumer_port()
    {
        var (org, exp) = await SetupAsync();
        (await emu.Admin.PostJsonAsync("/experience-pages", new JsonObject
        {
            ["experienceId"] = exp, ["slug"] = "summer-drop", ["title"] = "Summer <Drop>", ["creativeDocument"] = RichDocument(),
        }, HttpClientExtensions.Sk(org.SecretKey))).EnsureStatus(200);

        foreach (var path in new[] { "/pages/summer-drop", "/api/v1/pages/summer-drop", "/pages/fanfare-demo/summer-drop", $"/pages/summer-drop?organizationId={org.Id}" })
        {
            var r = await emu.Consumer.GetAsync(path, null);
            Assert.Equal(200, r.Code);
            Assert.Equal("text/html", r.ContentHeaders!.ContentType!.MediaType);
            Assert.Contains("<title>Summer &lt;Drop&gt;</title>", r.Text);
            Assert.Contains("Summer Sneaker Drop", r.Text);                 // the experience it points to
            Assert.Contains($"data-experience-id=\"{exp}\"", r.Text);
            Assert.Contains("--fanfare-primary: #ff5500;", r.Text);         // themeOverrides over the experience theme
            Assert.Contains("--fanfare-background: #fafafa;", r.Text);
            Assert.Contains("Doors open &lt;soon&gt;.", r.Text);
            Assert.Contains("href=\"https://shop.example/enter\"", r.Text);
            Assert.Contains("id=\"fanfare-experience\"", r.Text);
        }
        var missing = await emu.Consumer.GetAsync("/pages/nothing-here", null);
        Assert.Equal(404, missing.Code);
        Assert.Contains("Page not found", missing.Text);
        Assert.Equal(404, (await emu.Consumer.GetAsync("/pages/acme-sneakers/summer-drop", null)).Code);
    }
}
