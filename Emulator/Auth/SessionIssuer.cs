using System.Text.Json.Nodes;
using Fanfare.Emulator.Auth;
using Fanfare.Emulator.Auth.Tokens;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Hosting;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;
using ConsumerDoc = Fanfare.Emulator.Consumers.Consumer;

namespace Fanfare.Emulator.Auth;

/// <summary>
/// Opens sessions and mints their tokens (behavior.md §2.1, §2.4). Access-token claims: <c>consumerId, organizationId,
/// sessionId, email?, phone?, isGuest, sub, org, type:"consumer", iss:"consumer-app", iat, exp</c> (the JWT guide's set plus
/// the best-practices page's <c>sub/org/type</c>). Refresh tokens are JWTs with <c>type:"refresh"</c> and a <c>jti</c>
/// that rotates on every refresh; beacon tokens carry <c>type:"beacon"</c>.
/// </summary>
public sealed class SessionIssuer(DocumentStore store, IdGenerator ids, TokenService tokens, ClockResolver clocks, EmulatorOptions options)
{
    /// <summary>SESSIONRESP of consumer-part1.md (<c>POST /auth/external/exchange</c>) plus the guide's <c>session.guestId</c>.</summary>
    public JsonObject Open(Organization org, ConsumerDoc consumer)
    {
        return store.Transaction(() =>
        {
            var session = new ConsumerSession
            {
                Id = ids.NewUuid("session"), OrganizationId = org.Id, ConsumerId = consumer.Id,
                Type = consumer.IsGuest ? "guest" : "authenticated", CreatedAt = clocks.For(org.Id).GetUtcNow(),
            };
            var minted = Mint(org, consumer, session);
            var s = new JsonObject { ["type"] = session.Type, ["consumerId"] = consumer.Id };
            if (consumer.IsGuest) s["guestId"] = consumer.Id;
            s["expiresAt"] = Json.Iso(minted.AccessExpiresAt);
            if (!consumer.IsGuest && consumer.Email is not null) s["email"] = consumer.Email;
            if (!consumer.IsGuest && consumer.Phone is not null) s["phone"] = consumer.Phone;
            return new JsonObject
            {
                ["session"] = s, ["accessToken"] = minted.Access, ["refreshToken"] = minted.Refresh,
                ["refreshTokenTtlSeconds"] = options.RefreshTokenTtlSeconds, ["beaconToken"] = minted.Beacon,
            };
        });
    }

    /// <summary><c>POST /auth/refresh</c>: rotates the refresh token. A used one revokes the session (reuse detection).</summary>
    public JsonObject Refresh(Organization org, string? refreshToken)
    {
        return store.Transaction(() =>
        {
            var invalid = ApiErrors.Unauthorized("invalid refresh token");
            var claims = tokens.Verify(org, refreshToken);
            if (claims is null || claims.Str("type") != "refresh" || claims.Str("organizationId") != org.Id) throw invalid;
            var now = clocks.For(org.Id).GetUtcNow();
            if (claims.Long("exp") is not long exp || exp <= now.ToUnixTimeSeconds()) throw invalid;
            var session = store.Get<ConsumerSession>(claims.Str("sessionId"));
            if (session is null || session.RevokedAt is not null) throw invalid;
            if (claims.Str("jti") != session.CurrentRefreshId)
            {
                session.RevokedAt = now; session.RevokedReason = "refresh_token_reuse";
                store.Put(session);
                throw invalid;
            }
            var consumer = store.Get<ConsumerDoc>(session.ConsumerId) ?? throw invalid;
            var minted = Mint(org, consumer, session);
            return new JsonObject
            {
                ["accessToken"] = minted.Access, ["refreshToken"] = minted.Refresh,
                ["refreshTokenTtlSeconds"] = options.RefreshTokenTtlSeconds,
                ["accessTokenExpiresAt"] = Json.Iso(minted.AccessExpiresAt), ["beaconToken"] = minted.Beacon,
            };
        });
    }

    /// <summary>Revokes a session: its access and refresh tokens are refused from now on.</summary>
    public void Revoke(string sessionId, string reason)
    {
        store.Transaction(() =>
        {
            var session = store.Get<ConsumerSession>(sessionId);
            if (session is null || session.RevokedAt is not null) return;
            session.RevokedAt = clocks.For(session.OrganizationId).GetUtcNow();
            session.RevokedReason = reason;
            store.Put(session);
        });
    }

    private (string Access, string Refresh, string Beacon, DateTimeOffset AccessExpiresAt) Mint(Organization org, ConsumerDoc consumer, ConsumerSession session)
    {
        var now = clocks.For(org.Id).GetUtcNow();
        long iat = now.ToUnixTimeSeconds();
        var accessExp = now.AddSeconds(options.AccessTokenTtlSeconds);
        var access = new JsonObject
        {
            ["consumerId"] = consumer.Id, ["organizationId"] = org.Id, ["sessionId"] = session.Id,
        };
        if (!consumer.IsGuest && consumer.Email is not null) access["email"] = consumer.Email;
        if (!consumer.IsGuest && consumer.Phone is not null) access["phone"] = consumer.Phone;
        access["isGuest"] = consumer.IsGuest;
        access["sub"] = consumer.Id; access["org"] = org.Id; access["type"] = "consumer";
        access["iss"] = "consumer-app"; access["iat"] = iat; access["exp"] = accessExp.ToUnixTimeSeconds();

        session.CurrentRefreshId = ids.NewPrefixed("rt_");
        store.Put(session);
        var refresh = new JsonObject
        {
            ["type"] = "refresh", ["consumerId"] = consumer.Id, ["organizationId"] = org.Id, ["sessionId"] = session.Id,
            ["jti"] = session.CurrentRefreshId, ["iss"] = "consumer-app", ["iat"] = iat,
            ["exp"] = now.AddSeconds(options.RefreshTokenTtlSeconds).ToUnixTimeSeconds(),
        };
        var beacon = new JsonObject
        {
            ["type"] = "beacon", ["consumerId"] = consumer.Id, ["organizationId"] = org.Id, ["sessionId"] = session.Id,
            ["iss"] = "consumer-app", ["iat"] = iat, ["exp"] = accessExp.ToUnixTimeSeconds(),
        };
        return (tokens.Sign(org, access), tokens.Sign(org, refresh), tokens.Sign(org, beacon), accessExp);
    }
}
