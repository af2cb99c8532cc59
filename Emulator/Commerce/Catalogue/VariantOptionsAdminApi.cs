using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure.Errors;

namespace Fanfare.Emulator.Commerce.Catalogue;

/// <summary>
/// Admin variant options and their values (admin-part4.md <c>/variant-options…</c>, 13 operations), secret key, all 200.
/// <c>PUT /variant-options/reorder</c>, <c>POST /variant-options/apply-templates</c> and
/// <c>PUT /variant-options/{id}/values/reorder</c> are routed before the <c>{optionId}</c>/<c>{valueId}</c> templates.
/// A second active option with the same name (case-insensitive) is a 400 <c>unique</c> issue (<c>validation.unique</c>).
/// </summary>
public sealed class VariantOptionsAdminApi : IFeatureModule
{
    public int Order => 36;

    public void MapEndpoints(EmulatorRoutes routes)
    {
        var g = routes.Admin.MapGroup("/variant-options").WithTags("Variant options");
        var J = CommerceJson.Default;

        g.MapGet("", (Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.OptionList(org.Id), J.VariantOptionListJson);
        }).Produces<VariantOptionListJson>(200, "application/json").WithName("getVariantOptions").WithSummary("Get all variant options for the organization");

        g.MapPost("", async (HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var name = body.String("name", required: true, minLength: 1);
            var displayName = body.String("displayName", required: true, minLength: 1);
            var values = ReadValues(body, "initialValues", required: false);
            var restricted = body.Bool("isRestricted");
            var sort = body.Int("sortOrder");
            if (name is not null && cat.OptionNameTaken(org.Id, name)) ProductsAdminApi.Unique(body, "name");
            body.ThrowIfInvalid();
            return TypedResults.Json(CatalogueService.ToJson(cat.CreateOption(org.Id, name!, displayName!, restricted ?? false, sort, values ?? [], caller.Actor())), J.VariantOptionJson);
        }).Produces<VariantOptionJson>(200, "application/json").WithName("postVariantOptions").WithSummary("Create a new variant option");

        g.MapPut("/reorder", async (HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var order = ProductsAdminApi.UuidArray(body, "optionOrder");
            body.ThrowIfInvalid();
            cat.ReorderOptions(org.Id, order!);
            return TypedResults.Json(cat.OptionList(org.Id), J.VariantOptionListJson);
        }).Produces<VariantOptionListJson>(200, "application/json").WithName("putVariantOptionsReorder").WithSummary("Reorder variant options");

        g.MapPost("/apply-templates", async (HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var body = await BodyReader.ReadAsync(req, required: true);
            var arr = body.Array("templates", required: true);
            var templates = new List<(string, string, bool?, List<OptionValueInput>)>();
            for (int i = 0; i < (arr?.Count ?? 0); i++)
            {
                var t = RequestChecks.Nested(arr![i]);
                var name = t.String("name", required: true, minLength: 1);
                var displayName = t.String("displayName", required: true, minLength: 1);
                var values = ReadValues(t, "initialValues", required: false);
                var restricted = t.Bool("isRestricted");
                body.Absorb(t, [RequestChecks.Step(body.Root, "templates"), RequestChecks.Step(arr, i)]);
                if (name is not null && displayName is not null) templates.Add((name, displayName, restricted, values ?? []));
            }
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.ApplyTemplates(org.Id, templates, caller.Actor()).Select(cat.WithValues).ToList(), J.ListVariantOptionWithValuesJson);
        }).Produces<List<VariantOptionWithValuesJson>>(200, "application/json").WithName("postVariantOptionsApplyTemplates").WithSummary("Apply variant option templates to bulk create options with initial values");

        g.MapGet("/{optionId}", (string optionId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.WithValues(cat.RequireOption(org.Id, optionId)), J.VariantOptionWithValuesJson);
        }).Produces<VariantOptionWithValuesJson>(200, "application/json").WithName("getVariantOptionsByOptionId").WithSummary("Get a single variant option");

        g.MapPatch("/{optionId}", async (string optionId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var o = cat.RequireOption(org.Id, optionId);
            var body = await BodyReader.ReadAsync(req);
            var name = body.String("name", minLength: 1);
            var displayName = body.String("displayName", minLength: 1);
            var restricted = body.Bool("isRestricted");
            var sort = body.Int("sortOrder");
            if (name is not null && cat.OptionNameTaken(org.Id, name, o.Id)) ProductsAdminApi.Unique(body, "name");
            body.ThrowIfInvalid();
            return TypedResults.Json(CatalogueService.ToJson(cat.UpdateOption(o, name, displayName, restricted, sort, caller.Actor())), J.VariantOptionJson);
        }).Produces<VariantOptionJson>(200, "application/json").WithName("patchVariantOptionsByOptionId").WithSummary("Update a variant option");

        g.MapDelete("/{optionId}", (string optionId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            cat.ArchiveOption(cat.RequireOption(org.Id, optionId), caller.Actor());
            return TypedResults.Json(new MessageJson("Variant option archived successfully"), J.MessageJson);
        }).Produces<MessageJson>(200, "application/json").WithName("deleteVariantOptionsByOptionId").WithSummary("Archive a variant option");

        g.MapPost("/{optionId}/get-or-create-value", async (string optionId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var o = cat.RequireOption(org.Id, optionId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var value = body.String("value", required: true, minLength: 1);
            var display = body.String("displayValue", required: true, minLength: 1);
            body.ThrowIfInvalid();
            return TypedResults.Json(CatalogueService.ToJson(cat.GetOrCreateValue(o, value!, display!, caller.Actor())), J.VariantOptionValueJson);
        }).Produces<VariantOptionValueJson>(200, "application/json").WithName("postVariantOptionsByOptionIdGetOrCreateValue").WithSummary("Get or create a value for an unrestricted variant option (409 for a new value of a restricted one)");

        g.MapGet("/{optionId}/values", (string optionId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            return TypedResults.Json(cat.Values(cat.RequireOption(org.Id, optionId).Id, centralOnly: true).Select(CatalogueService.ToJson).ToList(), J.ListVariantOptionValueJson);
        }).Produces<List<VariantOptionValueJson>>(200, "application/json").WithName("getVariantOptionsByOptionIdValues").WithSummary("Get centrally managed values for a variant option");

        g.MapPost("/{optionId}/values", async (string optionId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var o = cat.RequireOption(org.Id, optionId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var values = ReadValues(body, "values", required: true);
            body.ThrowIfInvalid();
            return TypedResults.Json(cat.AddValues(o, values!, caller.Actor()).Select(CatalogueService.ToJson).ToList(), J.ListVariantOptionValueJson);
        }).Produces<List<VariantOptionValueJson>>(200, "application/json").WithName("postVariantOptionsByOptionIdValues").WithSummary("Create values for a variant option (an existing value is returned, not duplicated)");

        g.MapPut("/{optionId}/values/reorder", async (string optionId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var o = cat.RequireOption(org.Id, optionId);
            var body = await BodyReader.ReadAsync(req, required: true);
            var order = ProductsAdminApi.UuidArray(body, "valueOrder");
            body.ThrowIfInvalid();
            cat.ReorderValues(o, order!);
            return TypedResults.Json(cat.Values(o.Id, centralOnly: true).Select(CatalogueService.ToJson).ToList(), J.ListVariantOptionValueJson);
        }).Produces<List<VariantOptionValueJson>>(200, "application/json").WithName("putVariantOptionsByOptionIdValuesReorder").WithSummary("Reorder centrally managed values for a variant option");

        g.MapPatch("/{optionId}/values/{valueId}", async (string optionId, string valueId, HttpRequest req, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            var v = cat.RequireValue(org.Id, cat.RequireOption(org.Id, optionId).Id, valueId);
            var body = await BodyReader.ReadAsync(req);
            body.String("colorHex", nullable: true);
            var display = body.String("displayValue", minLength: 1);
            body.Int("sortOrder", nullable: true);
            body.ThrowIfInvalid();
            return TypedResults.Json(CatalogueService.ToJson(cat.UpdateValue(v, body.Root, display, caller.Actor())), J.VariantOptionValueJson);
        }).Produces<VariantOptionValueJson>(200, "application/json").WithName("patchVariantOptionsByOptionIdValuesByValueId").WithSummary("Update a variant option value");

        g.MapDelete("/{optionId}/values/{valueId}", (string optionId, string valueId, Caller caller, CatalogueService cat) =>
        {
            var org = caller.RequireSecret();
            cat.ArchiveValue(cat.RequireValue(org.Id, cat.RequireOption(org.Id, optionId).Id, valueId), caller.Actor());
            return TypedResults.Json(new MessageJson("Variant option value archived successfully"), J.MessageJson);
        }).Produces<MessageJson>(200, "application/json").WithName("deleteVariantOptionsByOptionIdValuesByValueId").WithSummary("Archive a variant option value");
    }

    private static List<OptionValueInput>? ReadValues(BodyReader body, string key, bool required)
    {
        var arr = body.Array(key, required: required);
        if (arr is null) return null;
        var list = new List<OptionValueInput>();
        for (int i = 0; i < arr.Count; i++)
        {
            var v = RequestChecks.Nested(arr[i]);
            var value = v.String("value", required: true, minLength: 1);
            var display = v.String("displayValue", required: true, minLength: 1);
            var color = v.String("colorHex");
            var sort = v.Int("sortOrder");
            body.Absorb(v, [RequestChecks.Step(body.Root, key), RequestChecks.Step(arr, i)]);
            if (value is not null && display is not null) list.Add(new OptionValueInput(value, display, color, sort));
        }
        return list;
    }
}
