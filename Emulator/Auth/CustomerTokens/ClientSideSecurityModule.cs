using System.Text.Json;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Auth.CustomerTokens;

/// <summary>
/// Client-side security: registers <see cref="ClientSideSecurityService"/>, puts <see cref="CustomerTokenMiddleware"/>
/// in the pipeline, and applies each organization's seed section
/// <c>"clientSideSecurity": {"test": {"enforced": true}, "live": {"enforced": false}}</c> (either environment may be
/// left out: not enforced). Control-plane endpoints: <c>Control/CustomerTokens/CustomerTokensApi.cs</c>.
/// </summary>
public sealed class ClientSideSecurityModule : IFeatureModule
{
    public void AddServices(IServiceCollection services, EmulatorOptions options) =>
        services.AddSingleton<ClientSideSecurityService>();

    public void UsePipeline(IApplicationBuilder app) => app.UseMiddleware<CustomerTokenMiddleware>();

    public void ApplySeed(IServiceProvider services, Organization org, JsonObject orgSeed, JsonObject seed)
    {
        if (orgSeed["clientSideSecurity"] is not JsonObject section) return;
        var security = services.GetRequiredService<ClientSideSecurityService>();
        foreach (var env in ClientSideSecurityService.Environments)
        {
            if (section[env] is not JsonObject e || e["enforced"] is not JsonValue v) continue;
            if (v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                throw new InvalidOperationException($"seed: organizations[\"{org.Name}\"].clientSideSecurity.{env}.enforced must be true or false");
            security.SetEnforced(org.Id, env, v.GetValue<bool>());
        }
    }
}
