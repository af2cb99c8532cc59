using Fanfare.Emulator.Tests.Infrastructure;

namespace Fanfare.Emulator.Tests.Commerce;

/// <summary>Every commerce and beacon operation of operations.txt (41 admin catalogue, 3 checkout, 2 beacon) is listed in
/// its port's <c>/openapi</c> document, with a typed 200 response schema.</summary>
public sealed class CommerceOpenApiTests(BareEmulatorServer emu) : IClassFixture<BareEmulatorServer>
{
    private static readonly (string Api, string Method, string Path)[] Operations =
    [
        ("admin", "GET", "/products"),
        ("admin", "POST", "/products"),
        ("admin", "GET", "/products/{productId}"),
        ("admin", "PUT", "/products/{productId}"),
        ("admin", "DELETE", "/products/{productId}"),
        ("admin", "GET", "/products/{productId}/media-assets"),
        ("admin", "POST", "/products/{productId}/media-assets"),
        ("admin", "PUT", "/products/{productId}/media-assets/{assetId}"),
        ("admin", "DELETE", "/products/{productId}/media-assets/{assetId}"),
        ("admin", "PUT", "/products/{productId}/media-assets/reorder"),
        ("admin", "GET", "/products/{productId}/metrics"),
        ("admin", "GET", "/products/{productId}/variant-options"),
        ("admin", "POST", "/products/{productId}/variant-options"),
        ("admin", "DELETE", "/products/{productId}/variant-options/{optionId}"),
        ("admin", "GET", "/products/{productId}/variants"),
        ("admin", "POST", "/products/{productId}/variants"),
        ("admin", "GET", "/products/{productId}/variants/{variantId}"),
        ("admin", "PUT", "/products/{productId}/variants/{variantId}"),
        ("admin", "DELETE", "/products/{productId}/variants/{variantId}"),
        ("admin", "PATCH", "/products/{productId}/variants/{variantId}/inventory"),
        ("admin", "GET", "/products/{productId}/variants/{variantId}/media-assets"),
        ("admin", "POST", "/products/{productId}/variants/{variantId}/media-assets"),
        ("admin", "PUT", "/products/{productId}/variants/{variantId}/media-assets"),
        ("admin", "DELETE", "/products/{productId}/variants/{variantId}/media-assets/{mediaAssetId}"),
        ("admin", "PUT", "/products/{productId}/variants/{variantId}/media-assets/reorder"),
        ("admin", "PUT", "/products/{productId}/variants/{variantId}/option-assignments"),
        ("admin", "GET", "/products/{productId}/variants/available"),
        ("admin", "GET", "/products/search"),
        ("admin", "GET", "/variant-options"),
        ("admin", "POST", "/variant-options"),
        ("admin", "GET", "/variant-options/{optionId}"),
        ("admin", "PATCH", "/variant-options/{optionId}"),
        ("admin", "DELETE", "/variant-options/{optionId}"),
        ("admin", "POST", "/variant-options/{optionId}/get-or-create-value"),
        ("admin", "GET", "/variant-options/{optionId}/values"),
        ("admin", "POST", "/variant-options/{optionId}/values"),
        ("admin", "PATCH", "/variant-options/{optionId}/values/{valueId}"),
        ("admin", "DELETE", "/variant-options/{optionId}/values/{valueId}"),
        ("admin", "PUT", "/variant-options/{optionId}/values/reorder"),
        ("admin", "POST", "/variant-options/apply-templates"),
        ("admin", "PUT", "/variant-options/reorder"),
        ("checkout", "POST", "/checkout"),
        ("checkout", "POST", "/payments/cancellations"),
        ("checkout", "POST", "/payments/refunds"),
        ("beacon", "POST", "/events"),
        ("beacon", "POST", "/events/batch"),
    ];

    [Fact]
    public async Task All_46_operations_are_listed_on_their_port()
    {
        var docs = new Dictionary<string, System.Text.Json.Nodes.JsonNode>
        {
            ["admin"] = await emu.Admin.GetJsonAsync("/openapi/v1.json"),
            ["checkout"] = await emu.Checkout.GetJsonAsync("/openapi/v1.json"),
            ["beacon"] = await emu.Beacon.GetJsonAsync("/openapi/v1.json"),
        };
        Assert.Equal(46, Operations.Length);
        foreach (var (api, method, path) in Operations)
        {
            var op = docs[api]["paths"]![path]?[method.ToLowerInvariant()];
            Assert.True(op is not null, $"{api} {method} {path} missing from /openapi");
            Assert.NotNull(op!["responses"]!["200"]);
        }
        // typed schemas (records + source-generated context), not an untyped object
        Assert.NotNull(docs["admin"]["paths"]!["/products/{productId}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]);
        Assert.NotNull(docs["checkout"]["paths"]!["/checkout"]!["post"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]);
    }
}
