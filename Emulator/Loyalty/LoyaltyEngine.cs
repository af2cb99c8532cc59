using System.Globalization;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Distributions.Appointments;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Scheduling;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;
using ConsumerDoc = Fanfare.Emulator.Consumers.Consumer;
using Consumer = Fanfare.Emulator.Consumers.Consumer;

namespace Fanfare.Emulator.Loyalty;

/// <summary>A consumer's points at a glance.</summary>
public sealed record LoyaltyStanding(int Balance, int LifetimePoints, DateTimeOffset? LastActivityAt);

/// <summary>The result of a manual adjustment (behavior.md §10.3: applied?, applied amount, resulting balance, lifetime points, transaction id).</summary>
public sealed record LoyaltyAdjustment(bool Applied, int AppliedAmount, int Balance, int LifetimePoints, string? TransactionId, string? Reason);

/// <summary>
/// The points ledger (behavior.md §10.3). Earning buckets hold points; spending (negative adjustments, reversals) takes
/// from the bucket that expires first, then the oldest. Expiry runs as scheduled jobs on the emulator clock:
/// <c>fixed</c> — each bucket <c>fixedExpireMonths</c> after it was earned; <c>inactivity</c> — the whole balance
/// <c>inactivityExpireMonths</c> after the last earn/redeem. Earning honours <c>enabled</c>, <c>dailyEarnCap</c>,
/// <c>monthlyEarnCap</c> (days and months in the organization's time zone) and <c>maxBalance</c>; an earning whose
/// <see cref="LoyaltyTransaction.DedupeKey"/> was already recorded earns nothing (a conversion is paid once per orderId).
/// </summary>
public sealed class LoyaltyEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, Scheduler scheduler)
{
    public const string ExpireBucketJob = "loyalty.expire-bucket", ExpireInactiveJob = "loyalty.expire-inactive";

    public LoyaltySettings Settings(string organizationId) => store.Get<LoyaltySettings>(organizationId) ?? LoyaltySettings.Defaults(organizationId);

    public void SaveSettings(LoyaltySettings settings) => store.Put(settings);

    private LoyaltyAccount? Account(string organizationId, string consumerId) =>
        store.Get<LoyaltyAccount>(consumerId) is { } a && a.OrganizationId == organizationId ? a : null;

    private LoyaltyAccount OpenAccount(string organizationId, string consumerId) =>
        Account(organizationId, consumerId) ?? new LoyaltyAccount { Id = consumerId, OrganizationId = organizationId };

    private List<LoyaltyBucket> Buckets(string organizationId, string consumerId) =>
        (Account(organizationId, consumerId)?.BucketIds ?? []).Select(id => store.Get<LoyaltyBucket>(id)).Where(b => b is { Remaining: > 0 }).Select(b => b!).ToList();

    /// <summary>A consumer's transactions, oldest first.</summary>
    public List<LoyaltyTransaction> Transactions(string organizationId, string consumerId) =>
        (Account(organizationId, consumerId)?.TransactionIds ?? []).Select(id => store.Get<LoyaltyTransaction>(id)).Where(t => t is not null).Select(t => t!).ToList();

    private LoyaltyTransaction? ByKey(string organizationId, string consumerId, string key) =>
        Account(organizationId, consumerId)?.DedupeKeys.TryGetValue(key, out var id) == true ? store.Get<LoyaltyTransaction>(id) : null;

    /// <summary>Stores a transaction (and its bucket) and indexes them in the consumer's account.</summary>
    private void Record(LoyaltyTransaction txn, LoyaltyBucket? bucket = null)
    {
        var account = OpenAccount(txn.OrganizationId, txn.ConsumerId);
        store.Put(txn);
        account.TransactionIds.Add(txn.Id);
        if (txn.DedupeKey is not null) account.DedupeKeys[txn.DedupeKey] = txn.Id;
        if (bucket is not null) { store.Put(bucket); account.BucketIds.Add(bucket.Id); }
        store.Put(account);
    }

    public LoyaltyStanding Standing(string organizationId, string consumerId)
    {
        lock (store.Sync)
        {
            Reconcile(organizationId, consumerId);
            var balance = Buckets(organizationId, consumerId).Sum(b => b.Remaining);
            var txns = Transactions(organizationId, consumerId);
            var lifetime = txns.Where(t => t.PointsDelta > 0 && t.TxnType is TxnTypes.Earn or TxnTypes.Adjust or TxnTypes.Migration).Sum(t => t.PointsDelta);
            return new LoyaltyStanding(balance, lifetime, LastActivity(txns));
        }
    }

    private static DateTimeOffset? LastActivity(List<LoyaltyTransaction> txns) =>
        txns.Where(t => t.TxnType is TxnTypes.Earn or TxnTypes.Redeem or TxnTypes.Adjust or TxnTypes.Migration && t.PointsDelta != 0)
            .Select(t => (DateTimeOffset?)t.OccurredAt).Max();

    /// <summary>Upcoming expirations within <paramref name="withinDays"/> days, grouped by UTC date (<c>yyyy-MM-dd</c>), soonest first.</summary>
    public List<(string ExpiresOn, int Points)> Expirations(string organizationId, string consumerId, int withinDays)
    {
        lock (store.Sync)
        {
            Reconcile(organizationId, consumerId);
            var now = clocks.For(organizationId).GetUtcNow();
            var horizon = now.AddDays(withinDays);
            var settings = Settings(organizationId);
            var buckets = Buckets(organizationId, consumerId);
            var due = new List<(DateTimeOffset At, int Points)>();
            if (settings.ExpirationType == "inactivity" && settings.InactivityExpireMonths is int months && buckets.Count > 0
                && LastActivity(Transactions(organizationId, consumerId)) is { } last)
                due.Add((last.AddMonths(months), buckets.Sum(b => b.Remaining)));
            else
                due.AddRange(buckets.Where(b => b.ExpiresAt is not null).Select(b => (b.ExpiresAt!.Value, b.Remaining)));
            return due.Where(d => d.At <= horizon).OrderBy(d => d.At)
                .GroupBy(d => d.At.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
                .Select(g => (g.Key, g.Sum(x => x.Points))).ToList();
        }
    }

    /// <summary>Every transaction, newest first.</summary>
    public List<LoyaltyTransaction> History(string organizationId, string consumerId)
    {
        lock (store.Sync)
        {
            Reconcile(organizationId, consumerId);
            var list = Transactions(organizationId, consumerId);
            list.Reverse(); // store order is insertion order
            return list.OrderByDescending(t => t.OccurredAt).ToList();
        }
    }

    /// <summary>Remaining buckets (for <c>expiringBuckets</c>), soonest expiry first.</summary>
    public List<LoyaltyBucket> OpenBuckets(string organizationId, string consumerId)
    {
        lock (store.Sync)
        {
            Reconcile(organizationId, consumerId);
            return Buckets(organizationId, consumerId).OrderBy(b => b.ExpiresAt ?? DateTimeOffset.MaxValue).ThenBy(b => b.EarnedAt).ToList();
        }
    }

    /// <summary>
    /// Earns the points <paramref name="eventType"/> is worth (plus <paramref name="extraPoints"/>), clipped by the caps and
    /// <c>maxBalance</c>. Returns the transaction, or null when nothing was earned (disabled, 0 points, already earned, capped to 0).
    /// </summary>
    public LoyaltyTransaction? Earn(string organizationId, string consumerId, string eventType, string sourceType, string? sourceId,
        string dedupeKey, DateTimeOffset occurredAt, string? description = null, int extraPoints = 0, JsonObject? metadata = null)
    {
        return store.Transaction(() =>
        {
            var settings = Settings(organizationId);
            if (!settings.Enabled) return null;
            var consumer = store.Get<ConsumerDoc>(consumerId);
            if (consumer is null || consumer.OrganizationId != organizationId || consumer.Archived) return null;
            var requested = settings.PointsFor(eventType) + extraPoints;
            if (requested <= 0) return null;
            if (ByKey(organizationId, consumerId, dedupeKey) is not null) return null;

            var points = requested;
            string? cappedBy = null;
            var earns = Transactions(organizationId, consumerId).Where(t => t.TxnType == TxnTypes.Earn).ToList();
            var tz = Zone(organizationId);
            var local = TimeZoneInfo.ConvertTime(occurredAt, tz);
            if (settings.DailyEarnCap is int daily)
            {
                var today = earns.Where(t => TimeZoneInfo.ConvertTime(t.OccurredAt, tz).Date == local.Date).Sum(t => t.PointsDelta);
                if (daily - today < points) { points = Math.Max(0, daily - today); cappedBy = "dailyEarnCap"; }
            }
            if (settings.MonthlyEarnCap is int monthly)
            {
                var month = earns.Where(t => { var l = TimeZoneInfo.ConvertTime(t.OccurredAt, tz); return l.Year == local.Year && l.Month == local.Month; }).Sum(t => t.PointsDelta);
                if (monthly - month < points) { points = Math.Max(0, monthly - month); cappedBy = "monthlyEarnCap"; }
            }
            if (settings.MaxBalance is int max)
            {
                var balance = Buckets(organizationId, consumerId).Sum(b => b.Remaining);
                if (max - balance < points) { points = Math.Max(0, max - balance); cappedBy = "maxBalance"; }
            }
            if (points <= 0) return null;
            var meta = metadata ?? [];
            meta["eventType"] = eventType;
            if (cappedBy is not null) { meta["requestedPoints"] = requested; meta["cappedBy"] = cappedBy; }
            return Credit(organizationId, consumerId, TxnTypes.Earn, points, occurredAt, sourceType, eventType, sourceId, description, dedupeKey, "system", null, meta);
        });
    }

    /// <summary>A manual adjustment (control plane; §10.3): a positive delta earns a bucket (clipped by <c>maxBalance</c>),
    /// a negative one spends oldest-expiring first (never below 0).</summary>
    public LoyaltyAdjustment Adjust(string organizationId, string consumerId, int delta, string? reason, string actorType, string? actorId, string txnType = TxnTypes.Adjust)
    {
        return store.Transaction(() =>
        {
            var now = clocks.For(organizationId).GetUtcNow();
            var settings = Settings(organizationId);
            var balance = Buckets(organizationId, consumerId).Sum(b => b.Remaining);
            var amount = delta;
            if (delta > 0 && settings.MaxBalance is int max) amount = Math.Min(delta, Math.Max(0, max - balance));
            if (delta < 0) amount = -Math.Min(-delta, balance);
            LoyaltyTransaction? txn = null;
            var meta = new JsonObject();
            if (reason is not null) meta["reason"] = reason;
            if (amount != delta) meta["requestedPoints"] = delta;
            if (amount > 0)
                txn = Credit(organizationId, consumerId, txnType, amount, now, txnType == TxnTypes.Migration ? "import" : "manual", null, null, reason, null, actorType, actorId, meta);
            else if (amount < 0)
                txn = Debit(organizationId, consumerId, txnType, -amount, now, "manual", null, reason, actorType, actorId, meta, countsAsActivity: true);
            var standing = Standing(organizationId, consumerId);
            return new LoyaltyAdjustment(amount != 0, amount, standing.Balance, standing.LifetimePoints, txn?.Id,
                amount == 0 ? (delta > 0 ? "maxBalance reached" : "balance is 0") : null);
        });
    }

    /// <summary>Takes back points earned under <paramref name="dedupeKey"/> (a cancelled order's conversion), at most the balance.</summary>
    public LoyaltyTransaction? Reverse(string organizationId, string consumerId, string dedupeKey, string description)
    {
        return store.Transaction(() =>
        {
            var earned = ByKey(organizationId, consumerId, dedupeKey);
            var reversalKey = "reversal:" + dedupeKey;
            if (earned is null || earned.PointsDelta <= 0 || ByKey(organizationId, consumerId, reversalKey) is not null) return null;
            var balance = Buckets(organizationId, consumerId).Sum(b => b.Remaining);
            var points = Math.Min(earned.PointsDelta, balance);
            if (points <= 0) return null;
            var txn = Debit(organizationId, consumerId, TxnTypes.Reversal, points, clocks.For(organizationId).GetUtcNow(), earned.SourceType, earned.SourceId, description, "system", null,
                new JsonObject { ["reversedTransactionId"] = earned.Id }, countsAsActivity: false, dedupeKey: reversalKey);
            return txn;
        });
    }

    private LoyaltyTransaction Credit(string organizationId, string consumerId, string txnType, int points, DateTimeOffset at, string sourceType,
        string? sourceEvent, string? sourceId, string? description, string? dedupeKey, string actorType, string? actorId, JsonObject? meta)
    {
        var settings = Settings(organizationId);
        DateTimeOffset? expires = settings.ExpirationType == "fixed" && settings.FixedExpireMonths is int m ? at.AddMonths(m) : null;
        var bucket = new LoyaltyBucket
        {
            Id = ids.NewUuid("loyalty-bucket"), OrganizationId = organizationId, ConsumerId = consumerId,
            EarnedAt = at, ExpiresAt = expires, Points = points, Remaining = points,
        };
        if (expires is { } e) scheduler.Schedule("loyalty-expire:" + bucket.Id, ExpireBucketJob, e, new JsonObject { ["bucketId"] = bucket.Id }, organizationId);
        var txn = new LoyaltyTransaction
        {
            Id = ids.NewUuid("loyalty-txn"), OrganizationId = organizationId, ConsumerId = consumerId, TxnType = txnType, PointsDelta = points,
            OccurredAt = at, SourceType = sourceType, SourceEvent = sourceEvent, SourceId = sourceId, SourceDescription = description,
            DedupeKey = dedupeKey, ActorType = actorType, ActorId = actorId, BucketId = bucket.Id, BucketEarnedOn = at, BucketExpiresOn = expires,
            Metadata = meta is { Count: > 0 } ? meta : null,
        };
        Record(txn, bucket);
        Touched(organizationId, consumerId, at);
        return txn;
    }

    private LoyaltyTransaction Debit(string organizationId, string consumerId, string txnType, int points, DateTimeOffset at, string? sourceType,
        string? sourceId, string? description, string actorType, string? actorId, JsonObject? meta, bool countsAsActivity, string? dedupeKey = null)
    {
        var left = points;
        LoyaltyBucket? first = null;
        foreach (var b in Buckets(organizationId, consumerId).OrderBy(b => b.ExpiresAt ?? DateTimeOffset.MaxValue).ThenBy(b => b.EarnedAt))
        {
            if (left == 0) break;
            first ??= b;
            var take = Math.Min(left, b.Remaining);
            b.Remaining -= take; left -= take;
            store.Put(b);
            if (b.Remaining == 0) scheduler.Cancel("loyalty-expire:" + b.Id);
        }
        var txn = new LoyaltyTransaction
        {
            Id = ids.NewUuid("loyalty-txn"), OrganizationId = organizationId, ConsumerId = consumerId, TxnType = txnType, PointsDelta = -(points - left),
            OccurredAt = at, SourceType = sourceType, SourceId = sourceId, SourceDescription = description, ActorType = actorType, ActorId = actorId,
            BucketId = first?.Id, BucketEarnedOn = first?.EarnedAt, BucketExpiresOn = first?.ExpiresAt, Metadata = meta is { Count: > 0 } ? meta : null,
            DedupeKey = dedupeKey,
        };
        Record(txn);
        if (countsAsActivity) Touched(organizationId, consumerId, at);
        return txn;
    }

    /// <summary>Earning or redeeming resets the inactivity clock.</summary>
    private void Touched(string organizationId, string consumerId, DateTimeOffset at)
    {
        var settings = Settings(organizationId);
        var id = $"loyalty-inactive:{organizationId}:{consumerId}";
        if (settings.ExpirationType == "inactivity" && settings.InactivityExpireMonths is int months)
        {
            var last = LastActivity(Transactions(organizationId, consumerId)) ?? at;
            if (at > last) last = at;
            scheduler.Schedule(id, ExpireInactiveJob, last.AddMonths(months), new JsonObject { ["consumerId"] = consumerId }, organizationId);
        }
    }

    /// <summary>Job: what is left of one bucket expires.</summary>
    public void ExpireBucket(string bucketId)
    {
        store.Transaction(() =>
        {
            var b = store.Get<LoyaltyBucket>(bucketId);
            if (b is null || b.Remaining <= 0) return;
            var now = clocks.For(b.OrganizationId).GetUtcNow();
            var points = b.Remaining;
            b.Remaining = 0;
            store.Put(b);
            Record(new LoyaltyTransaction
            {
                Id = ids.NewUuid("loyalty-txn"), OrganizationId = b.OrganizationId, ConsumerId = b.ConsumerId, TxnType = TxnTypes.Expire,
                PointsDelta = -points, OccurredAt = b.ExpiresAt ?? now, SourceType = "expiry", SourceId = b.Id,
                SourceDescription = "Points expired (fixed expiry)", ActorType = "system", BucketId = b.Id, BucketEarnedOn = b.EarnedAt, BucketExpiresOn = b.ExpiresAt,
            });
        });
    }

    /// <summary>Job: the whole balance expires after <c>inactivityExpireMonths</c> without activity.</summary>
    public void ExpireInactive(string organizationId, string consumerId)
    {
        store.Transaction(() =>
        {
            var settings = Settings(organizationId);
            if (settings.ExpirationType != "inactivity" || settings.InactivityExpireMonths is not int months) return;
            var now = clocks.For(organizationId).GetUtcNow();
            var last = LastActivity(Transactions(organizationId, consumerId));
            if (last is null || last.Value.AddMonths(months) > now) return;
            var buckets = Buckets(organizationId, consumerId);
            var points = buckets.Sum(b => b.Remaining);
            if (points == 0) return;
            foreach (var b in buckets) { b.Remaining = 0; store.Put(b); }
            Record(new LoyaltyTransaction
            {
                Id = ids.NewUuid("loyalty-txn"), OrganizationId = organizationId, ConsumerId = consumerId, TxnType = TxnTypes.Expire,
                PointsDelta = -points, OccurredAt = now, SourceType = "expiry", SourceDescription = $"Points expired after {months} months of inactivity",
                ActorType = "system",
            });
        });
    }

    /// <summary>
    /// Bookings and waitlist entries record no platform event: they are read from their documents when the ledger is read
    /// (each earns once, at the time it happened).
    /// </summary>
    private void Reconcile(string organizationId, string consumerId)
    {
        var settings = Settings(organizationId);
        if (!settings.Enabled) return;
        var records = store.Count<AppointmentBooking>() + store.Count<WaitlistEntry>();
        if (records == 0) return;
        var account = Account(organizationId, consumerId);
        if (account is not null && account.ReconciledRecords == records) return;
        if (settings.PointsFor("appointment.booked") > 0)
            foreach (var b in store.Where<AppointmentBooking>(b => b.OrganizationId == organizationId && b.ConsumerId == consumerId))
                Earn(organizationId, consumerId, "appointment.booked", "appointment", b.AppointmentId, "appointment.booked:" + b.Id, b.CreatedAt, "Appointment booked");
        if (settings.PointsFor("waitlist.joined") > 0)
            foreach (var w in store.Where<WaitlistEntry>(w => w.OrganizationId == organizationId && w.ConsumerId == consumerId))
                Earn(organizationId, consumerId, "waitlist.joined", "waitlist", w.WaitlistId, "waitlist.joined:" + w.WaitlistId, w.EnteredAt, "Joined a waitlist");
        if (store.Get<Consumer>(consumerId) is { OrganizationId: var o } && o == organizationId)
        {
            account = OpenAccount(organizationId, consumerId);
            account.ReconciledRecords = records;
            store.Put(account);
        }
    }

    private TimeZoneInfo Zone(string organizationId)
    {
        var tz = store.Get<Organization>(organizationId)?.TimeZone ?? "UTC";
        try { return TimeZoneInfo.FindSystemTimeZoneById(tz); } catch (Exception) { return TimeZoneInfo.Utc; }
    }
}
