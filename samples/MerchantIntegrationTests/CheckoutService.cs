using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace MerchantIntegrationTests;

/// <summary>
/// Stands for the merchant's backend code under test: before it takes an order it checks the shopper's queue admission
/// grant with Fanfare (secret key, server side) and marks the participation complete once the order exists.
/// In a real suite this is your application's class, configured with the emulator's address and keys.
/// </summary>
public sealed class CheckoutService(HttpClient fanfare)
{
    /// <returns>The order id, or null when the grant is not (or no longer) valid.</returns>
    public async Task<string?> PlaceOrderAsync(string queueId, string consumerId, string admissionGrant)
    {
        var valid = await (await fanfare.PostAsJsonAsync($"/queues/{queueId}/validate", new { consumerId, token = admissionGrant }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<bool>();
        if (!valid) return null;
        var orderId = "ord_" + Guid.NewGuid().ToString("N")[..8];
        var done = await (await fanfare.PostAsJsonAsync($"/queues/{queueId}/complete", new { consumerId, metadata = new { orderId } }))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>();
        return done!["status"]!.GetValue<string>() == "COMPLETED" ? orderId : null;
    }
}
