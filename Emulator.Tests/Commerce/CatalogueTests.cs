using System.Text.Json.Nodes;
using Fanfare.Emulator.Tests.Distributions;
using Fanfare.Emulator.Tests.Infrastructure;
using static Fanfare.Emulator.Tests.Infrastructure.HttpClientExtensions;
using static Fanfare.Emulator.Tests.Commerce.CommerceTestKit;

namespace Fanfare.Emulator.Tests.Commerce;

/// <summary>The 41 admin catalogue operations over HTTP: products, variants, inventory, media, options, assignments, search.</summary>
public sealed class CatalogueTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private async Task<(OrgKeys Org, Dictionary<string, string> Sk)> SetupAsync()
    {
        await emu.ResetAsync();
        var org = await emu.DemoOrgAsync();
        return (org, Sk(org.SecretKey));
    }

    private Task<ApiResponse> Send(HttpMethod m, string path, JsonNode? body, Dictionary<string, string> sk) => emu.Admin.SendJsonAsync(m, path, body, sk);

    [Fact]
    public async Task Products_crud_pagination_archive_filter_search_and_reduced_shapes()
    {
        var (org, sk) = await SetupAsync();
        var created = (await emu.Admin.PostJsonAsync("/products", new JsonObject
        {
            ["name"] = "Trail Runner", ["url"] = "https://shop.example.com/trail", ["handle"] = "trail", ["metadata"] = new JsonObject { ["season"] = "ss30" },
            ["productMediaAssets"] = new JsonArray(new JsonObject
            {
                ["mediaAsset"] = new JsonObject { ["name"] = "front", ["mimeType"] = "image/png", ["sourceUrl"] = "https://cdn.example.com/front.png" },
                ["position"] = 0, ["purpose"] = "PRODUCT",
            }),
            ["variants"] = new JsonArray(
                new JsonObject { ["sku"] = "TR-8", ["price"] = "120.00", ["inventoryQuantity"] = 5, ["inventoryPolicy"] = "deny", ["optionValues"] = new JsonArray(new JsonObject { ["optionName"] = "size", ["value"] = "8" }) },
                new JsonObject { ["sku"] = "TR-9", ["price"] = "120.00", ["inventoryQuantity"] = 0, ["inventoryPolicy"] = "deny" }),
        }, sk)).EnsureStatus(200);
        var id = created["id"].GetValue<string>();
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal(org.Id, created["organizationId"].GetValue<string>());
        Assert.False(created["archived"].GetValue<bool>());
        Assert.Equal("api_key", created["createdBy"].GetValue<string>());
        Assert.Equal(2, created["variants"].AsArray().Count);
        Assert.Equal("120.00", created["variants"][0]!["price"]!.GetValue<string>());
        Assert.Equal("size", created["variants"][0]!["options"]![0]!["optionName"]!.GetValue<string>());
        Assert.Empty(created["variants"][1]!["options"]!.AsArray());
        Assert.Equal(created["variants"][0]!["id"]!.GetValue<string>(), created["defaultVariantId"].GetValue<string>());
        Assert.Equal("front", created["productMediaAssets"][0]!["mediaAsset"]!["name"]!.GetValue<string>());
        Assert.True(created.Json!.AsObject().ContainsKey("primarySyncSource")); // T | null written as null

        var dupSku = await emu.Admin.PostJsonAsync("/products", new JsonObject { ["name"] = "X", ["url"] = "u", ["variants"] = new JsonArray(new JsonObject { ["sku"] = "TR-8", ["price"] = "1", ["inventoryQuantity"] = 1, ["inventoryPolicy"] = "deny" }) }, sk);
        Assert.Equal(400, dupSku.Code);
        Assert.Equal("unique", dupSku["issues"][0]!["type"]!.GetValue<string>());
        var bad = await emu.Admin.PostJsonAsync("/products", new JsonObject { ["url"] = 5, ["variants"] = new JsonArray(new JsonObject { ["sku"] = "Z", ["price"] = "cheap", ["inventoryQuantity"] = 1, ["inventoryPolicy"] = "never" }) }, sk);
        Assert.Equal(400, bad.Code);
        Assert.True(bad["issues"].AsArray().Count >= 4); // name, url, price, inventoryPolicy

        // upsert by sync source
        var sync = new JsonObject { ["syncSource"] = "shopify", ["syncSourceId"] = "gid://1" };
        var s1 = (await emu.Admin.PostJsonAsync("/products", new JsonObject { ["name"] = "Synced", ["url"] = "https://s/1", ["primarySyncSource"] = sync.DeepClone() }, sk)).EnsureStatus(200);
        var s2 = (await emu.Admin.PostJsonAsync("/products", new JsonObject { ["name"] = "Synced v2", ["url"] = "https://s/1", ["primarySyncSource"] = sync.DeepClone() }, sk)).EnsureStatus(200);
        Assert.Equal(s1["id"].GetValue<string>(), s2["id"].GetValue<string>());
        Assert.Equal("Synced v2", s2["name"].GetValue<string>());
        Assert.Equal("PENDING", s2["primarySyncSource"]["syncStatus"].GetValue<string>());

        // list: seeded 6 + 2; paginate with first/after
        var page1 = await emu.Admin.GetJsonAsync("/products?first=5", sk);
        Assert.Equal(5, page1["data"]!.AsArray().Count);
        Assert.Null(page1["pageInfo"]!["startCursor"]);
        var after = page1["pageInfo"]!["endCursor"]!.GetValue<string>();
        var page2 = await emu.Admin.GetJsonAsync($"/products?first=5&after={after}", sk);
        Assert.Equal(3, page2["data"]!.AsArray().Count);
        Assert.Null(page2["pageInfo"]!["endCursor"]);
        Assert.Equal(400, (await emu.Admin.GetAsync("/products?first=0", sk)).Code);

        var got = await emu.Admin.GetJsonAsync($"/products/{id}", sk);
        Assert.Equal("Trail Runner", got["name"]!.GetValue<string>());
        var put = (await Send(HttpMethod.Put, $"/products/{id}", new JsonObject { ["name"] = "Trail Runner 2", ["description"] = null }, sk)).EnsureStatus(200);
        Assert.Equal("Trail Runner 2", put["name"].GetValue<string>());
        Assert.False(put.Json!.AsObject().ContainsKey("variants")); // ProductBase
        Assert.False(put.Json!.AsObject().ContainsKey("defaultVariantId"));
        Assert.Equal(400, (await Send(HttpMethod.Put, $"/products/{id}", new JsonObject { ["name"] = 3 }, sk)).Code);

        var search = await emu.Admin.GetJsonAsync("/products/search?q=tr-9", sk);
        Assert.Equal(id, search.AsArray().Single()!["id"]!.GetValue<string>());
        Assert.Equal(8, (await emu.Admin.GetJsonAsync("/products/search", sk)).AsArray().Count);

        var deleted = (await Send(HttpMethod.Delete, $"/products/{id}", null, sk)).EnsureStatus(200);
        Assert.True(deleted["archived"].GetValue<bool>());
        Assert.Equal(7, (await emu.Admin.GetJsonAsync("/products?first=100", sk))["data"]!.AsArray().Count);
        Assert.Equal(id, (await emu.Admin.GetJsonAsync("/products?archived=true", sk))["data"]![0]!["id"]!.GetValue<string>());
        var missing = await emu.Admin.GetAsync($"/products/{Guid.NewGuid()}", sk);
        Assert.Equal(404, missing.Code);
        Assert.Equal("Product not found", missing["error"].GetValue<string>());
        Assert.Equal(401, (await emu.Admin.GetAsync("/products", Pk(org.PublishableKey))).Code);
    }

    [Fact]
    public async Task Variants_inventory_available_and_option_assignments()
    {
        var (_, sk) = await SetupAsync();
        var list = (await emu.Admin.GetAsync($"/products/{Sneaker}/variants", sk)).EnsureStatus(200).Json!.AsArray();
        Assert.Equal(2, list.Count);
        Assert.Equal("9", list[0]!["options"]![0]!["value"]!.GetValue<string>());

        var bodyMismatch = await emu.Admin.PostJsonAsync($"/products/{Sneaker}/variants", new JsonObject { ["productId"] = Hoodie, ["sku"] = "SNK-CC-11", ["price"] = "149.99", ["inventoryQuantity"] = 3, ["inventoryPolicy"] = "deny" }, sk);
        Assert.Equal(400, bodyMismatch.Code);
        var v = (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/variants", new JsonObject { ["productId"] = Sneaker, ["sku"] = "SNK-CC-11", ["price"] = "159.99", ["inventoryQuantity"] = 0, ["inventoryPolicy"] = "deny" }, sk)).EnsureStatus(200);
        var vid = v["id"].GetValue<string>();
        Assert.False(v.Json!.AsObject().ContainsKey("options")); // ProductVariant without options
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/variants", new JsonObject { ["productId"] = Sneaker, ["sku"] = "SNK-CC-11", ["price"] = "1", ["inventoryQuantity"] = 0, ["inventoryPolicy"] = "deny" }, sk)).Code);

        var available = (await emu.Admin.GetAsync($"/products/{Sneaker}/variants/available", sk)).EnsureStatus(200).Json!.AsArray();
        Assert.DoesNotContain(available, x => x!["id"]!.GetValue<string>() == vid);
        var patched = (await Send(HttpMethod.Patch, $"/products/{Sneaker}/variants/{vid}/inventory", new JsonObject { ["inventoryQuantity"] = 7 }, sk)).EnsureStatus(200);
        Assert.Equal(7, patched["inventoryQuantity"].GetValue<int>());
        Assert.Contains((await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variants/available", sk)).AsArray(), x => x!["id"]!.GetValue<string>() == vid);
        Assert.Equal(400, (await Send(HttpMethod.Patch, $"/products/{Sneaker}/variants/{vid}/inventory", new JsonObject { ["inventoryQuantity"] = "7" }, sk)).Code);

        var put = (await Send(HttpMethod.Put, $"/products/{Sneaker}/variants/{vid}", new JsonObject { ["price"] = "139.99", ["inventoryPolicy"] = "continue" }, sk)).EnsureStatus(200);
        Assert.Equal("139.99", put["price"].GetValue<string>());
        Assert.Equal("continue", put["inventoryPolicy"].GetValue<string>());

        // options: size exists from the seed; assign size=11 to the new variant
        var options = await emu.Admin.GetJsonAsync("/variant-options", sk);
        var size = options["options"]!.AsArray().Single(o => o!["name"]!.GetValue<string>() == "size")!;
        var sizeId = size["id"]!.GetValue<string>();
        var eleven = (await emu.Admin.PostJsonAsync($"/variant-options/{sizeId}/get-or-create-value", new JsonObject { ["value"] = "11", ["displayValue"] = "US 11" }, sk)).EnsureStatus(200);
        var withOptions = (await Send(HttpMethod.Put, $"/products/{Sneaker}/variants/{vid}/option-assignments",
            new JsonObject { ["optionAssignments"] = new JsonArray(new JsonObject { ["optionId"] = sizeId, ["valueId"] = eleven["id"].GetValue<string>() }) }, sk)).EnsureStatus(200);
        Assert.Equal("11", withOptions["options"][0]!["value"]!.GetValue<string>());
        var one = await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variants/{vid}", sk);
        Assert.Equal(sizeId, one["options"]![0]!["optionId"]!.GetValue<string>());
        Assert.Equal(404, (await Send(HttpMethod.Put, $"/products/{Sneaker}/variants/{vid}/option-assignments",
            new JsonObject { ["optionAssignments"] = new JsonArray(new JsonObject { ["optionId"] = sizeId, ["valueId"] = Guid.NewGuid().ToString() }) }, sk)).Code);

        // product option assignments
        var assigned = await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variant-options", sk);
        Assert.Equal(sizeId, assigned["assignments"]![0]!["optionId"]!.GetValue<string>());
        Assert.False(assigned["assignments"]![0]!.AsObject().ContainsKey("id"));
        var color = (await emu.Admin.PostJsonAsync("/variant-options", new JsonObject { ["name"] = "color", ["displayName"] = "Color" }, sk)).EnsureStatus(200);
        var colorId = color["id"].GetValue<string>();
        var post = (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/variant-options", new JsonObject { ["options"] = new JsonArray(new JsonObject { ["optionId"] = colorId, ["required"] = true, ["sortOrder"] = 5 }) }, sk)).EnsureStatus(200);
        Assert.Equal(2, post["assignments"].AsArray().Count);
        Assert.True((await Send(HttpMethod.Delete, $"/products/{Sneaker}/variant-options/{colorId}", null, sk)).EnsureStatus(200)["success"].GetValue<bool>());
        Assert.Single((await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variant-options", sk))["assignments"]!.AsArray());

        var del = (await Send(HttpMethod.Delete, $"/products/{Sneaker}/variants/{vid}", null, sk)).EnsureStatus(200);
        Assert.True(del["archived"].GetValue<bool>());
        Assert.Equal(404, (await emu.Admin.GetAsync($"/products/{Sneaker}/variants/{vid}", sk)).Code);
        Assert.Equal("Product variant not found", (await emu.Admin.GetAsync($"/products/{Hoodie}/variants/{Sneaker9}", sk))["error"].GetValue<string>());
    }

    [Fact]
    public async Task Product_and_variant_media_assets_with_both_reorders()
    {
        var (_, sk) = await SetupAsync();
        async Task<string> Add(string name, int pos) =>
            (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/media-assets", new JsonObject
            {
                ["mediaAsset"] = new JsonObject { ["name"] = name, ["mimeType"] = "image/webp" }, ["position"] = pos, ["purpose"] = "PRODUCT",
            }, sk)).EnsureStatus(200)["id"].GetValue<string>();
        var a = await Add("a", 0); var b = await Add("b", 1); var c = await Add("c", 2);
        Assert.Equal(400, (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/media-assets", new JsonObject { ["position"] = 0, ["purpose"] = "BANNER" }, sk)).Code);

        Assert.True((await Send(HttpMethod.Put, $"/products/{Sneaker}/media-assets/reorder", new JsonObject { ["assetOrder"] = new JsonArray(c, a, b) }, sk)).EnsureStatus(200)["success"].GetValue<bool>());
        var listed = (await emu.Admin.GetJsonAsync($"/products/{Sneaker}/media-assets", sk)).AsArray();
        Assert.Equal([c, a, b], listed.Select(x => x!["mediaAssetId"]!.GetValue<string>()));
        var row = (await Send(HttpMethod.Put, $"/products/{Sneaker}/media-assets/{b}", new JsonObject { ["purpose"] = "LOGO", ["position"] = 9 }, sk)).EnsureStatus(200);
        Assert.Equal("LOGO", row["purpose"].GetValue<string>());
        Assert.False(row.Json!.AsObject().ContainsKey("mediaAsset"));

        // variant media
        var vm = (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/variants/{Sneaker9}/media-assets", new JsonObject { ["mediaAssetId"] = a, ["position"] = 0 }, sk)).EnsureStatus(200);
        Assert.Equal(Sneaker9, vm["variantId"].GetValue<string>());
        var replaced = (await Send(HttpMethod.Put, $"/products/{Sneaker}/variants/{Sneaker9}/media-assets", new JsonObject { ["mediaAssetIds"] = new JsonArray(b, c) }, sk)).EnsureStatus(200).Json!.AsArray();
        Assert.Equal([b, c], replaced.Select(x => x!["mediaAssetId"]!.GetValue<string>()));
        (await Send(HttpMethod.Put, $"/products/{Sneaker}/variants/{Sneaker9}/media-assets/reorder", new JsonObject { ["assetOrder"] = new JsonArray(c, b) }, sk)).EnsureStatus(200);
        Assert.Equal([c, b], (await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variants/{Sneaker9}/media-assets", sk)).AsArray().Select(x => x!["mediaAssetId"]!.GetValue<string>()));
        Assert.Equal(404, (await emu.Admin.PostJsonAsync($"/products/{Sneaker}/variants/{Sneaker9}/media-assets", new JsonObject { ["mediaAssetId"] = Guid.NewGuid().ToString(), ["position"] = 0 }, sk)).Code);
        (await Send(HttpMethod.Delete, $"/products/{Sneaker}/variants/{Sneaker9}/media-assets/{c}", null, sk)).EnsureStatus(200);
        Assert.Single((await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variants/{Sneaker9}/media-assets", sk)).AsArray());

        // removing from the product removes it from its variants too
        (await Send(HttpMethod.Delete, $"/products/{Sneaker}/media-assets/{b}", null, sk)).EnsureStatus(200);
        Assert.Empty((await emu.Admin.GetJsonAsync($"/products/{Sneaker}/variants/{Sneaker9}/media-assets", sk)).AsArray());
        Assert.Equal(2, (await emu.Admin.GetJsonAsync($"/products/{Sneaker}", sk))["productMediaAssets"]!.AsArray().Count);
    }

    [Fact]
    public async Task Variant_options_values_templates_and_reorders()
    {
        var (_, sk) = await SetupAsync();
        var created = (await emu.Admin.PostJsonAsync("/variant-options", new JsonObject
        {
            ["name"] = "material", ["displayName"] = "Material", ["isRestricted"] = true,
            ["initialValues"] = new JsonArray(new JsonObject { ["value"] = "leather", ["displayValue"] = "Leather" }, new JsonObject { ["value"] = "canvas", ["displayValue"] = "Canvas", ["colorHex"] = "#eeeeee" }),
        }, sk)).EnsureStatus(200);
        var id = created["id"].GetValue<string>();
        Assert.False(created.Json!.AsObject().ContainsKey("values"));
        Assert.Equal(400, (await emu.Admin.PostJsonAsync("/variant-options", new JsonObject { ["name"] = "Material", ["displayName"] = "dup" }, sk)).Code);

        var values = (await emu.Admin.GetJsonAsync($"/variant-options/{id}/values", sk)).AsArray();
        Assert.Equal(["leather", "canvas"], values.Select(v => v!["value"]!.GetValue<string>()));
        Assert.Null(values[0]!["colorHex"]);
        Assert.True(values[0]!.AsObject().ContainsKey("colorHex"));
        var restricted = await emu.Admin.PostJsonAsync($"/variant-options/{id}/get-or-create-value", new JsonObject { ["value"] = "suede", ["displayValue"] = "Suede" }, sk);
        Assert.Equal(409, restricted.Code);
        Assert.Equal(values[0]!["id"]!.GetValue<string>(), (await emu.Admin.PostJsonAsync($"/variant-options/{id}/get-or-create-value", new JsonObject { ["value"] = "LEATHER", ["displayValue"] = "x" }, sk)).EnsureStatus(200)["id"].GetValue<string>());

        var added = (await emu.Admin.PostJsonAsync($"/variant-options/{id}/values", new JsonObject { ["values"] = new JsonArray(new JsonObject { ["value"] = "suede", ["displayValue"] = "Suede" }) }, sk)).EnsureStatus(200).Json!.AsArray();
        var suede = added[0]!["id"]!.GetValue<string>();
        var reordered = (await Send(HttpMethod.Put, $"/variant-options/{id}/values/reorder", new JsonObject { ["valueOrder"] = new JsonArray(suede) }, sk)).EnsureStatus(200).Json!.AsArray();
        Assert.Equal(["suede", "leather", "canvas"], reordered.Select(v => v!["value"]!.GetValue<string>()));
        var patched = (await Send(HttpMethod.Patch, $"/variant-options/{id}/values/{suede}", new JsonObject { ["displayValue"] = "Suede leather", ["colorHex"] = "#aa8866" }, sk)).EnsureStatus(200);
        Assert.Equal("#aa8866", patched["colorHex"].GetValue<string>());
        Assert.Equal("suede", patched["value"].GetValue<string>());
        Assert.NotNull((await Send(HttpMethod.Delete, $"/variant-options/{id}/values/{suede}", null, sk)).EnsureStatus(200)["message"]);
        Assert.Equal(2, (await emu.Admin.GetJsonAsync($"/variant-options/{id}", sk))["values"]!.AsArray().Count);

        var upd = (await Send(HttpMethod.Patch, $"/variant-options/{id}", new JsonObject { ["displayName"] = "Fabric", ["isRestricted"] = false }, sk)).EnsureStatus(200);
        Assert.Equal("Fabric", upd["displayName"].GetValue<string>());

        var applied = (await emu.Admin.PostJsonAsync("/variant-options/apply-templates", new JsonObject
        {
            ["templates"] = new JsonArray(
                new JsonObject { ["name"] = "material", ["displayName"] = "Material", ["initialValues"] = new JsonArray(new JsonObject { ["value"] = "wool", ["displayValue"] = "Wool" }) },
                new JsonObject { ["name"] = "fit", ["displayName"] = "Fit", ["initialValues"] = new JsonArray(new JsonObject { ["value"] = "slim", ["displayValue"] = "Slim" }) }),
        }, sk)).EnsureStatus(200).Json!.AsArray();
        Assert.Equal(id, applied[0]!["id"]!.GetValue<string>());
        Assert.Equal(3, applied[0]!["values"]!.AsArray().Count);
        var fit = applied[1]!["id"]!.GetValue<string>();

        var ordered = (await Send(HttpMethod.Put, "/variant-options/reorder", new JsonObject { ["optionOrder"] = new JsonArray(fit, id) }, sk)).EnsureStatus(200);
        Assert.Equal(fit, ordered["options"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(ordered["options"]!.AsArray().Count, ordered["total"].GetValue<int>());
        Assert.NotNull((await Send(HttpMethod.Delete, $"/variant-options/{fit}", null, sk)).EnsureStatus(200)["message"]);
        Assert.Equal(404, (await emu.Admin.GetAsync($"/variant-options/{fit}", sk)).Code);
    }

    [Fact]
    public async Task Sequence_products_must_be_real_and_experience_views_show_product_data_and_open_sales_refuse_archive()
    {
        var (org, sk) = await SetupAsync();
        var seq = (await emu.Admin.PostJsonAsync("/sequences", new JsonObject { ["name"] = "Mystery" }, sk)).EnsureStatus(200)["id"].GetValue<string>();
        var unknown = await emu.Admin.PostJsonAsync($"/sequences/{seq}/products", new JsonObject { ["productId"] = Guid.NewGuid().ToString(), ["weight"] = 1 }, sk);
        Assert.Equal(404, unknown.Code);
        Assert.Equal("Product not found", unknown["error"].GetValue<string>());
        var bulk = await Send(HttpMethod.Put, $"/sequences/{seq}/products", new JsonArray(new JsonObject { ["productId"] = Sneaker, ["weight"] = 1 }, new JsonObject { ["productId"] = Guid.NewGuid().ToString(), ["weight"] = 1 }), sk);
        Assert.Equal(404, bulk.Code);
        Assert.Empty((await emu.Admin.GetJsonAsync($"/sequences/{seq}/products", sk)).AsArray()); // nothing changed
        (await emu.Admin.PostJsonAsync($"/sequences/{seq}/products", new JsonObject { ["productId"] = Sneaker, ["weight"] = 3 }, sk)).EnsureStatus(200);

        // an experience selling the hoodie, with an open queue: the admin and consumer views carry the product
        var e = (await emu.Admin.PostJsonAsync("/experiences", new JsonObject
        {
            ["name"] = "Hoodie drop", ["products"] = new JsonArray(new JsonObject { ["productId"] = Hoodie, ["productVariantId"] = HoodieM }),
            ["sequence"] = new JsonObject { ["name"] = "Main", ["queues"] = new JsonArray(new JsonObject { ["name"] = "Q", ["admitRate"] = 10 }) },
        }, sk)).EnsureStatus(200);
        var eid = e["id"].GetValue<string>();
        Assert.Equal("Merch Hoodie", e["products"][0]!["product"]!["name"]!.GetValue<string>());
        Assert.Equal("HOODIE-M", e["products"][0]!["productVariant"]!["sku"]!.GetValue<string>());
        var consumerView = (await emu.Consumer.GetAsync($"/experiences/{eid}", Pk(org.PublishableKey))).EnsureStatus(200);
        Assert.Equal("60.00", consumerView["products"][0]!["productVariant"]!["price"]!.GetValue<string>());

        var refused = await Send(HttpMethod.Delete, $"/products/{Hoodie}", null, sk);
        Assert.Equal(409, refused.Code);
        Assert.Equal("Product is sold by an open sequence", refused["error"].GetValue<string>());
        Assert.Equal(409, (await Send(HttpMethod.Delete, $"/products/{Hoodie}/variants/{HoodieM}", null, sk)).Code);
        Assert.False((await emu.Admin.GetJsonAsync($"/products/{Hoodie}", sk))["archived"]!.GetValue<bool>());
    }
}
