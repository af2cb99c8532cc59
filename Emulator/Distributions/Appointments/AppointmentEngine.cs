using System.Globalization;
using System.Text.Json.Nodes;
using Fanfare.Emulator.Consumers;
using Fanfare.Emulator.Clock;
using Fanfare.Emulator.Messaging;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Waitlists;
using Fanfare.Emulator.Infrastructure;
using Fanfare.Emulator.Infrastructure.Errors;
using Fanfare.Emulator.Infrastructure.Ids;
using Fanfare.Emulator.Infrastructure.Store;
using Fanfare.Emulator.Organizations;

namespace Fanfare.Emulator.Distributions.Appointments;

/// <summary>One bookable slot: id <c>slot_yyyyMMddTHHmmssZ</c> (its UTC start), start and end (UTC).</summary>
public readonly record struct AppointmentSlot(string Id, DateTimeOffset Start, DateTimeOffset End)
{
    public static string IdFor(DateTimeOffset start) => "slot_" + start.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? StartOf(string? slotId)
    {
        if (slotId is null || !slotId.StartsWith("slot_", StringComparison.Ordinal)) return null;
        return DateTime.TryParseExact(slotId[5..], "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? new DateTimeOffset(t, TimeSpan.Zero) : null;
    }
}

/// <summary>
/// The appointment engine (behavior.md §3.6; consumer-part1.md appointment operations; admin-part1.md appointments).
/// Slots are derived, never stored: they start at <c>openAt</c> (rounded up to a whole minute; or local midnight of the creation day when unset) and
/// every <c>slotDurationMinutes + bufferMinutes</c> after, and must end by <c>closeAt</c>. Consumers see future slots
/// only (start after the emulator clock's now). Booking is instant, capacity is re-checked at booking, a cancelled
/// place is free again, reschedule keeps the booking id and confirmation code. Errors: 404 <c>Appointment not found</c>,
/// 404 <c>Slot not found</c> (unknown, off-grid or past slot), 404 <c>Booking not found</c>, 409 <c>Slot is full</c>,
/// 409 <c>Appointment already booked</c>, 423 <c>Appointment is not open yet</c> (+ ISO <c>Retry-After</c>), 400
/// <c>Appointment is closed</c>, 409 <c>Cannot update closed distribution</c> (admin update of an ended appointment).
/// </summary>
public sealed class AppointmentEngine(DocumentStore store, IdGenerator ids, ClockResolver clocks, DistributionLifecycle lifecycle,
    WaitlistConversions conversions, MessageOutbox messages, IServiceProvider services)
    : IDistributionEngine, IAdminDistributionEngine<AppointmentDistribution>
{
    /// <summary>Upper bound of slots one listing returns.</summary>
    public const int MaxSlotsPerListing = 5000;

    public string Type => DistributionTypes.Appointment;
    public string NestedKey => "appointments";
    public string NotFoundError => "Appointment not found";

    private DateTimeOffset Now(string orgId) => clocks.For(orgId).GetUtcNow();

    public DistributionBase? Find(string organizationId, string id) => Get(organizationId, id);

    public AppointmentDistribution? Get(string organizationId, string? id) => store.GetOwned<AppointmentDistribution>(organizationId, id);

    /// <summary>A live (non-archived) appointment of the organization, or 404 <c>Appointment not found</c>.</summary>
    public AppointmentDistribution Require(string organizationId, string? id) =>
        Get(organizationId, id) is { Archived: false } d ? d : throw ApiErrors.NotFoundError(NotFoundError);

    public IEnumerable<DistributionBase> ForSequence(string organizationId, string sequenceId) =>
        store.OfOrganization<AppointmentDistribution>(organizationId, sequenceId);

    /// <summary>The organization's live appointments in creation order, optionally of one sequence.</summary>
    public List<AppointmentDistribution> List(string organizationId, string? sequenceId = null) =>
        store.Where<AppointmentDistribution>(d => d.OrganizationId == organizationId && !d.Archived && (sequenceId is null || d.SequenceId == sequenceId));

    // ---------------------------------------------------------------- admin

    /// <summary>
    /// Creates from the admin body (admin-part1.md <c>POST /appointments</c>; nested in <c>POST /experiences</c> without
    /// <c>sequenceId</c>): <c>name</c> (required), <c>bufferMinutes</c> (≥ 0), <c>slotDurationMinutes</c> (≥ 1),
    /// <c>maxCapacityPerSlot</c> (≥ 1), <c>openAt</c>, <c>closeAt</c> (after openAt), <c>locationId</c> (uuid),
    /// <c>timeZone</c> (default: the experience's, else the organization's). With issues, nothing is stored.
    /// </summary>
    public AppointmentDistribution Create(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var d = Read(org, sequence, body, actor);
        if (body.HasIssues) return d;
        return store.Transaction(() =>
        {
            d.Id = ids.NewUuid("appointment");
            store.Put(d);
            lifecycle.Track(d);
            return d;
        });
    }

    DistributionBase IDistributionEngine.Create(Organization org, Sequence sequence, BodyReader body, string actor) =>
        Create(org, sequence, body, actor);

    public void ValidateCreate(Organization org, BodyReader body) => Read(org, new Sequence(), body, "");

    private AppointmentDistribution Read(Organization org, Sequence sequence, BodyReader body, string actor)
    {
        var name = body.String("name", required: true, minLength: 1);
        var buffer = body.Int("bufferMinutes", nullable: true, min: 0, max: 10080);
        var closeAt = body.DateTime("closeAt");
        var locationId = body.Uuid("locationId", nullable: true);
        var capacity = body.Int("maxCapacityPerSlot", nullable: true, min: 1, max: 1_000_000);
        var openAt = body.DateTime("openAt");
        var duration = body.Int("slotDurationMinutes", nullable: true, min: 1, max: 10080);
        var timeZone = body.String("timeZone", nullable: true, minLength: 1);
        if (openAt is { } o && closeAt is { } c && c <= o)
            body.AddIssue("closeAt", "min_value", "> openAt", body.Root["closeAt"], "Invalid closeAt: must be after openAt");
        var now = Now(org.Id);
        var d = new AppointmentDistribution
        {
            OrganizationId = org.Id, SequenceId = sequence.Id, ExperienceId = sequence.ExperienceId, Name = name ?? "",
            TimeZone = timeZone ?? DistributionFields.DefaultTimeZone(store, sequence, org),
            OpenAt = openAt, CloseAt = closeAt, BufferMinutes = buffer, SlotDurationMinutes = duration, MaxCapacityPerSlot = capacity,
            LocationId = locationId, CreatedAt = now, CreatedBy = actor,
        };
        return d;
    }

    /// <summary>admin-part1.md <c>PUT /appointments/{id}</c>: any of the create fields except <c>sequenceId</c>
    /// (<c>timeZone</c> not nullable); records <c>distribution.updated</c> with the changed fields.</summary>
    public AppointmentDistribution Update(AppointmentDistribution d, BodyReader body, string actor)
    {
        var name = body.String("name", minLength: 1);
        var buffer = body.Int("bufferMinutes", nullable: true, min: 0, max: 10080);
        var closeAt = body.DateTime("closeAt");
        var locationId = body.Uuid("locationId", nullable: true);
        var capacity = body.Int("maxCapacityPerSlot", nullable: true, min: 1, max: 1_000_000);
        var openAt = body.DateTime("openAt");
        var duration = body.Int("slotDurationMinutes", nullable: true, min: 1, max: 10080);
        var timeZone = body.String("timeZone", minLength: 1);
        var newOpen = body.Has("openAt") ? openAt : d.OpenAt;
        var newClose = body.Has("closeAt") ? closeAt : d.CloseAt;
        if (newOpen is { } o && newClose is { } c && c <= o)
            body.AddIssue("closeAt", "min_value", "> openAt", body.Root["closeAt"], "Invalid closeAt: must be after openAt");
        body.ThrowIfInvalid();
        return store.Transaction(() =>
        {
            var now = Now(d.OrganizationId);
            if (d.TimingState(now) is "ended" or "killed")
                throw ApiErrors.Conflict("Cannot update closed distribution");
            var changes = new FieldChanges(body);
            if (name is not null) changes.Set("name", d.Name, name, v => d.Name = v);
            changes.Set("bufferMinutes", d.BufferMinutes, buffer, v => d.BufferMinutes = v);
            changes.Set("closeAt", d.CloseAt, closeAt, v => d.CloseAt = v);
            changes.Set("locationId", d.LocationId, locationId, v => d.LocationId = v);
            changes.Set("maxCapacityPerSlot", d.MaxCapacityPerSlot, capacity, v => d.MaxCapacityPerSlot = v);
            changes.Set("openAt", d.OpenAt, openAt, v => d.OpenAt = v);
            changes.Set("slotDurationMinutes", d.SlotDurationMinutes, duration, v => d.SlotDurationMinutes = v);
            if (timeZone is not null) changes.Set("timeZone", d.TimeZone, timeZone, v => d.TimeZone = v);
            d.UpdatedAt = now;
            d.UpdatedBy = actor;
            store.Put(d);
            lifecycle.Updated(d, changes.Names);
            return d;
        });
    }

    /// <summary><c>DELETE /appointments/{id}</c>: archives it (no longer listed or served) and cancels its schedule.</summary>
    public AppointmentDistribution Archive(AppointmentDistribution d, string actor)
    {
        return store.Transaction(() =>
        {
            d.Archived = true;
            d.UpdatedAt = Now(d.OrganizationId);
            d.UpdatedBy = actor;
            store.Put(d);
            lifecycle.Untrack(d);
            return d;
        });
    }

    AppointmentDistribution IAdminDistributionEngine<AppointmentDistribution>.Delete(AppointmentDistribution d, string actor) => Archive(d, actor);

    public JsonObject ToJson(AppointmentDistribution d) => ToJson((DistributionBase)d);

    /// <summary>admin-part1.md <c>Appointment</c>.</summary>
    public JsonObject ToJson(DistributionBase distribution)
    {
        var d = (AppointmentDistribution)distribution;
        var o = d.CommonJson();
        d.AddFields(o);
        return o;
    }

    /// <summary>consumer-part1.md <c>GET /appointments/{appointmentId}</c> (public metadata).</summary>
    public static JsonObject PublicJson(AppointmentDistribution d) => new()
    {
        ["id"] = d.Id, ["timeZone"] = d.TimeZone, ["bufferMinutes"] = d.BufferMinutes, ["closeAt"] = Json.Iso(d.CloseAt),
        ["locationId"] = d.LocationId, ["maxCapacityPerSlot"] = d.MaxCapacityPerSlot, ["openAt"] = Json.Iso(d.OpenAt),
        ["slotDurationMinutes"] = d.SlotDurationMinutes, ["statusOverride"] = d.StatusOverride,
        ["statusOverrideAt"] = Json.Iso(d.StatusOverrideAt), ["statusOverrideBy"] = d.StatusOverrideBy, ["teardownStatus"] = d.TeardownStatus,
    };

    // ---------------------------------------------------------------- slots

    private static DateTimeOffset LocalMidnight(DateTimeOffset t, TimeZoneInfo tz)
    {
        var local = TimeZoneInfo.ConvertTime(t, tz).Date;
        return new DateTimeOffset(local, tz.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>The first slot's start: <c>openAt</c> rounded up to a whole minute (slot ids have second precision), or local
    /// midnight of the creation day when <c>openAt</c> is unset.</summary>
    private static DateTimeOffset Anchor(AppointmentDistribution d)
    {
        if (d.OpenAt is not { } open) return LocalMidnight(d.CreatedAt, RequestChecks.Zone(d.TimeZone));
        var minute = TimeSpan.TicksPerMinute;
        var ticks = open.UtcTicks % minute == 0 ? open.UtcTicks : open.UtcTicks - open.UtcTicks % minute + minute;
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    private static TimeSpan Step(AppointmentDistribution d) => TimeSpan.FromMinutes(d.Duration + d.Buffer);

    /// <summary>The slots starting in [<paramref name="from"/>, <paramref name="to"/>), in time order.</summary>
    public static IEnumerable<AppointmentSlot> Slots(AppointmentDistribution d, DateTimeOffset from, DateTimeOffset to)
    {
        var anchor = Anchor(d);
        var step = Step(d);
        long k = from <= anchor ? 0 : (long)Math.Ceiling((from - anchor).Ticks / (double)step.Ticks);
        for (int n = 0; n < MaxSlotsPerListing; n++, k++)
        {
            var start = anchor + TimeSpan.FromTicks(step.Ticks * k);
            if (start >= to) yield break;
            var end = start.AddMinutes(d.Duration);
            if (d.CloseAt is { } close && end > close) yield break;
            if (start >= from) yield return new AppointmentSlot(AppointmentSlot.IdFor(start), start, end);
        }
    }

    /// <summary>The slot a slot id names, when it lies on this appointment's grid; else null.</summary>
    public static AppointmentSlot? Slot(AppointmentDistribution d, string? slotId)
    {
        if (AppointmentSlot.StartOf(slotId) is not { } start) return null;
        var anchor = Anchor(d);
        if (start < anchor || (start - anchor).Ticks % Step(d).Ticks != 0) return null;
        var end = start.AddMinutes(d.Duration);
        if (d.CloseAt is { } close && end > close) return null;
        return new AppointmentSlot(AppointmentSlot.IdFor(start), start, end);
    }

    /// <summary>
    /// Parses the slot listing window: <c>startDate</c>/<c>endDate</c> as dates (<c>2026-11-21</c>, whole local days in
    /// <paramref name="zone"/>, end date inclusive) or ISO date-times; at most 366 days. 400 <c>validation_error</c> otherwise.
    /// </summary>
    public static (DateTimeOffset From, DateTimeOffset To) Window(string startDate, string endDate, TimeZoneInfo zone)
    {
        DateTimeOffset Parse(string key, string raw, bool end)
        {
            if (DateTime.TryParseExact(raw, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                var local = end ? day.AddDays(1) : day;
                return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
            }
            if (DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AssumeUniversal, out var t))
                return t.ToUniversalTime();
            throw RequestChecks.QueryIssue(key, "iso_date", "date (YYYY-MM-DD) or date-time", raw, $"Invalid date: Received \"{raw}\"");
        }
        var from = Parse("startDate", startDate, false);
        var to = Parse("endDate", endDate, true);
        if (to <= from)
            throw RequestChecks.QueryIssue("endDate", "min_value", ">= startDate", endDate, "Invalid endDate: must not be before startDate");
        if (to - from > TimeSpan.FromDays(366))
            throw RequestChecks.QueryIssue("endDate", "max_value", "<= startDate + 366 days", endDate, "Invalid endDate: the window is at most 366 days");
        return (from, to);
    }

    private List<AppointmentBooking> Bookings(AppointmentDistribution d) => store.Where<AppointmentBooking>(b => b.AppointmentId == d.Id);

    private Dictionary<string, List<AppointmentBooking>> PlacesBySlot(AppointmentDistribution d) =>
        Bookings(d).Where(b => BookingStatus.TakesPlace(b.Status)).GroupBy(b => b.SlotId).ToDictionary(g => g.Key, g => g.ToList());

    /// <summary>consumer-part1.md <c>GET /appointments/{id}/slots</c>: future slots of the window with their remaining places
    /// (<c>{slots:[{id,startTime,endTime,capacity,available,locationId,locationName,timezone}]}</c>). An ended appointment lists none.</summary>
    public JsonObject ConsumerSlots(AppointmentDistribution d, DateTimeOffset from, DateTimeOffset to, string timezone)
    {
        var now = Now(d.OrganizationId);
        var slots = new JsonArray();
        if (d.TimingState(now) is not ("ended" or "killed"))
        {
            var places = PlacesBySlot(d);
            foreach (var s in Slots(d, from > now ? from : now, to))
            {
                if (s.Start <= now) continue; // past (and starting-now) slots are hidden
                var booked = places.TryGetValue(s.Id, out var list) ? list.Count : 0;
                slots.Add(new JsonObject
                {
                    ["id"] = s.Id, ["startTime"] = Json.Iso(s.Start), ["endTime"] = Json.Iso(s.End), ["capacity"] = d.Capacity,
                    ["available"] = Math.Max(0, d.Capacity - booked), ["locationId"] = d.LocationId, ["locationName"] = null, ["timezone"] = timezone,
                });
            }
        }
        return new JsonObject { ["slots"] = slots };
    }

    /// <summary>admin-part1.md <c>GET /appointments/{id}/slots</c>: every slot of the window (past ones too) with bookings
    /// and attendees. <c>available</c> is false once full or started.</summary>
    public JsonObject AdminSlots(AppointmentDistribution d, DateTimeOffset from, DateTimeOffset to, string timezone, string date)
    {
        var now = Now(d.OrganizationId);
        var places = PlacesBySlot(d);
        var directory = services.GetRequiredService<ConsumerDirectory>();
        var slots = new JsonArray();
        foreach (var s in Slots(d, from, to))
        {
            var list = places.TryGetValue(s.Id, out var l) ? l : [];
            var attendees = new JsonArray();
            foreach (var b in list)
            {
                var c = directory.Get(d.OrganizationId, b.ConsumerId);
                var a = new JsonObject { ["consumerId"] = b.ConsumerId };
                if (c?.Email is { } email) a["email"] = email;
                if (c?.FullName is { } fullName) a["name"] = fullName;
                a["status"] = b.Status;
                attendees.Add(a);
            }
            slots.Add(new JsonObject
            {
                ["id"] = s.Id, ["appointmentId"] = d.Id, ["startTime"] = Json.Iso(s.Start), ["endTime"] = Json.Iso(s.End),
                ["available"] = list.Count < d.Capacity && s.Start > now, ["maxCapacity"] = d.Capacity, ["bookedCount"] = list.Count,
                ["percentageFilled"] = Math.Round(list.Count * 100.0 / d.Capacity, 2), ["attendees"] = attendees,
            });
        }
        return new JsonObject
        {
            ["appointmentId"] = d.Id, ["date"] = date, ["timezone"] = timezone, ["slots"] = slots, ["locationId"] = d.LocationId,
        };
    }

    /// <summary>admin-part1.md <c>GET /appointments/{id}/slots/{slotId}/attendees</c> with page/limit pagination.</summary>
    public JsonObject Attendees(AppointmentDistribution d, string slotId, int page, int limit)
    {
        if (Slot(d, slotId) is null && !Bookings(d).Any(b => b.SlotId == slotId)) throw ApiErrors.NotFoundError("Slot not found");
        var directory = services.GetRequiredService<ConsumerDirectory>();
        var all = Bookings(d).Where(b => b.SlotId == slotId && BookingStatus.TakesPlace(b.Status)).ToList();
        var items = new JsonArray();
        foreach (var b in all.Skip((page - 1) * limit).Take(limit))
        {
            var c = directory.Get(d.OrganizationId, b.ConsumerId);
            items.Add(new JsonObject
            {
                ["id"] = b.Id, ["consumerId"] = b.ConsumerId, ["status"] = b.Status, ["bookedAt"] = Json.Iso(b.CreatedAt),
                ["checkedInAt"] = Json.Iso(b.CheckedInAt), ["email"] = c?.Email, ["name"] = c?.FullName, ["phone"] = c?.Phone,
            });
        }
        return new JsonObject
        {
            ["slotId"] = slotId, ["appointmentId"] = d.Id, ["attendees"] = items,
            ["pagination"] = new JsonObject
            {
                ["page"] = page, ["limit"] = limit, ["total"] = all.Count, ["totalPages"] = (all.Count + limit - 1) / limit,
            },
        };
    }

    /// <summary>admin-part1.md <c>DELETE /appointments/{id}/slots/{slotId}/attendees/{consumerId}</c>.</summary>
    public JsonObject CancelAttendee(AppointmentDistribution d, string slotId, string consumerId)
    {
        return store.Transaction(() =>
        {
            var b = Bookings(d).LastOrDefault(b => b.SlotId == slotId && b.ConsumerId == consumerId && BookingStatus.IsCurrent(b.Status))
                ?? throw ApiErrors.NotFoundError("Booking not found");
            Cancel(b, "admin", null);
            return new JsonObject { ["success"] = true, ["message"] = "Appointment cancelled successfully" };
        });
    }

    // ---------------------------------------------------------------- consumer

    /// <summary>The consumer's current (confirmed or checked-in) booking, if any.</summary>
    public AppointmentBooking? Current(AppointmentDistribution d, string consumerId) =>
        store.Where<AppointmentBooking>(b => b.AppointmentId == d.Id && b.ConsumerId == consumerId && BookingStatus.IsCurrent(b.Status)).LastOrDefault();

    private void RequireOpen(AppointmentDistribution d, DateTimeOffset now)
    {
        switch (d.TimingState(now))
        {
            case "upcoming":
                throw new ApiException(423, "Appointment is not open yet", null, null,
                    new Dictionary<string, string> { ["Retry-After"] = Json.Iso(d.OpenAt!.Value) });
            case "ended" or "killed":
                throw ApiErrors.BadRequest("Appointment is closed");
        }
    }

    private AppointmentSlot RequireFutureSlot(AppointmentDistribution d, string slotId, DateTimeOffset now) =>
        Slot(d, slotId) is { } s && s.Start > now ? s : throw ApiErrors.NotFoundError("Slot not found");

    private int Taken(AppointmentDistribution d, string slotId, string? exceptBookingId = null) =>
        store.Where<AppointmentBooking>(b => b.AppointmentId == d.Id && b.SlotId == slotId && BookingStatus.TakesPlace(b.Status) && b.Id != exceptBookingId).Count;

    /// <summary>
    /// consumer-part1.md <c>POST /appointments/{id}/book</c> <c>{slotId, locationId?}</c>. Booking the slot the consumer
    /// already holds returns that booking; holding another one is 409 <c>Appointment already booked</c> (reschedule instead).
    /// </summary>
    public AppointmentBooking Book(Organization org, AppointmentDistribution d, string consumerId, string slotId)
    {
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            RequireOpen(d, now);
            if (Current(d, consumerId) is { } existing)
            {
                if (existing.SlotId == slotId) return existing;
                throw ApiErrors.Conflict("Appointment already booked", "You already hold a booking for this appointment; reschedule or cancel it first.");
            }
            var slot = RequireFutureSlot(d, slotId, now);
            if (Taken(d, slot.Id) >= d.Capacity) throw ApiErrors.Conflict("Slot is full", "This slot has no places left.");
            var b = new AppointmentBooking
            {
                Id = ids.NewUuid("appointment-booking"), OrganizationId = org.Id, AppointmentId = d.Id, SequenceId = d.SequenceId,
                ExperienceId = d.ExperienceId, ConsumerId = consumerId, SlotId = slot.Id, StartTime = slot.Start, EndTime = slot.End,
                ConfirmationCode = IdGenerator.Base32(ids.NextBytes("appointment-confirmation"), 8).ToUpperInvariant(),
                Status = BookingStatus.Confirmed, LocationId = d.LocationId, CreatedAt = now, UpdatedAt = now,
            };
            store.Put(b);
            conversions.Convert(org.Id, d.SequenceId, consumerId);
            SendConfirmation(org, d, b, rescheduled: false);
            return b;
        });
    }

    /// <summary>consumer-part1.md <c>POST /appointments/{id}/cancel</c> <c>{slotId, reason?}</c>: the consumer's booking of
    /// that slot is cancelled (its place is free again). 404 <c>Booking not found</c> otherwise.</summary>
    public AppointmentBooking CancelBySlot(AppointmentDistribution d, string consumerId, string slotId, string? reason)
    {
        return store.Transaction(() =>
        {
            var b = Current(d, consumerId);
            if (b is null || b.SlotId != slotId) throw ApiErrors.NotFoundError("Booking not found");
            Cancel(b, "consumer", reason);
            return b;
        });
    }

    private void Cancel(AppointmentBooking b, string by, string? reason)
    {
        var now = Now(b.OrganizationId);
        b.Status = BookingStatus.Cancelled;
        b.CancelledAt = now;
        b.CancelledBy = by;
        b.CancelReason = reason;
        b.UpdatedAt = now;
        store.Put(b);
    }

    /// <summary>consumer-part1.md <c>POST /appointments/{id}/reschedule</c> <c>{newSlotId}</c>: moves the current booking
    /// (same <c>bookingId</c> and <c>confirmationCode</c>). Returns the booking and the slot it left.</summary>
    public (AppointmentBooking Booking, string PreviousSlotId) Reschedule(Organization org, AppointmentDistribution d, string consumerId, string newSlotId)
    {
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            var b = Current(d, consumerId) ?? throw ApiErrors.NotFoundError("Booking not found");
            RequireOpen(d, now);
            var previous = b.SlotId;
            if (newSlotId == previous) return (b, previous);
            var slot = RequireFutureSlot(d, newSlotId, now);
            if (Taken(d, slot.Id, b.Id) >= d.Capacity) throw ApiErrors.Conflict("Slot is full", "This slot has no places left.");
            b.PreviousSlotIds.Add(previous);
            b.SlotId = slot.Id;
            b.StartTime = slot.Start;
            b.EndTime = slot.End;
            b.UpdatedAt = now;
            store.Put(b);
            SendConfirmation(org, d, b, rescheduled: true);
            return (b, previous);
        });
    }

    /// <summary>The book response: <c>{bookingId, appointmentId, consumerId, slotId, startTime, endTime, confirmationCode,
    /// status, createdAt, locationId, locationName}</c>.</summary>
    public static JsonObject BookingJson(AppointmentBooking b) => new()
    {
        ["bookingId"] = b.Id, ["appointmentId"] = b.AppointmentId, ["consumerId"] = b.ConsumerId, ["slotId"] = b.SlotId,
        ["startTime"] = Json.Iso(b.StartTime), ["endTime"] = Json.Iso(b.EndTime), ["confirmationCode"] = b.ConfirmationCode,
        ["status"] = b.Status, ["createdAt"] = Json.Iso(b.CreatedAt), ["locationId"] = b.LocationId, ["locationName"] = null,
    };

    /// <summary>consumer-part1.md <c>GET /appointments/{id}/me</c>: <c>{booking: {…} | null}</c> (the current booking).</summary>
    public JsonObject Me(AppointmentDistribution d, string consumerId)
    {
        var b = Current(d, consumerId);
        return new JsonObject
        {
            ["booking"] = b is null ? null : new JsonObject
            {
                ["bookingId"] = b.Id, ["appointmentId"] = b.AppointmentId, ["consumerId"] = b.ConsumerId, ["status"] = b.Status,
                ["confirmationCode"] = b.ConfirmationCode, ["endTime"] = Json.Iso(b.EndTime), ["locationId"] = b.LocationId,
                ["locationName"] = null, ["slotId"] = b.SlotId, ["startTime"] = Json.Iso(b.StartTime),
            },
        };
    }

    private void SendConfirmation(Organization org, AppointmentDistribution d, AppointmentBooking b, bool rescheduled)
    {
        var consumer = services.GetRequiredService<ConsumerDirectory>().Get(org.Id, b.ConsumerId);
        if (consumer?.Email is not { } email) return;
        var local = TimeZoneInfo.ConvertTime(b.StartTime, RequestChecks.Zone(d.TimeZone));
        var when = $"{local:dddd d MMMM yyyy, HH:mm} ({d.TimeZone})";
        var verb = rescheduled ? "rescheduled" : "confirmed";
        messages.SendEmail(org.Id, email, $"{org.Name} <no-reply@{org.Slug}.fanfare.local>", $"Your {d.Name} booking is {verb}",
            $"Your booking for {d.Name} is {verb}: {when}. Confirmation code: {b.ConfirmationCode}.",
            $"<p>Your booking for <strong>{System.Net.WebUtility.HtmlEncode(d.Name)}</strong> is {verb}: {System.Net.WebUtility.HtmlEncode(when)}.</p><p>Confirmation code: <strong>{b.ConfirmationCode}</strong></p>",
            null);
    }

    // ---------------------------------------------------------------- journey, QA

    /// <summary>
    /// Journey view (<c>AppointmentConsumer</c>): <c>scheduled</c> before openAt; <c>enterable</c> while open without a
    /// booking (or after cancelling); <c>participating</c> with a booking; <c>ended</c> once closed, with outcome
    /// <c>cancelled</c> / <c>no_show</c> / <c>completed</c> from the last booking, else <c>closed</c>.
    /// </summary>
    public Participation View(DistributionBase distribution, string consumerId)
    {
        var d = (AppointmentDistribution)distribution;
        var now = Now(d.OrganizationId);
        var b = store.Where<AppointmentBooking>(x => x.AppointmentId == d.Id && x.ConsumerId == consumerId).LastOrDefault();
        var consumer = new JsonObject
        {
            ["status"] = b is null ? "not_booked" : b.Status == BookingStatus.Confirmed ? "booked" : b.Status,
            ["distributionId"] = d.Id,
        };
        if (b is not null)
        {
            consumer["id"] = b.Id;
            consumer["bookedAt"] = Json.Iso(b.CreatedAt);
            consumer["slotId"] = b.SlotId;
            if (b.LocationId is { } loc) consumer["locationId"] = loc;
            if (b.CancelledAt is { } ca) consumer["cancelledAt"] = Json.Iso(ca);
            if (b.CheckedInAt is { } ci) consumer["checkedInAt"] = Json.Iso(ci);
        }
        switch (d.TimingState(now))
        {
            case "upcoming":
                return new Participation("scheduled", consumer);
            case "active":
                return new Participation(b is not null && BookingStatus.IsCurrent(b.Status) ? "participating" : "enterable", consumer);
            default:
                var type = b?.Status switch
                {
                    BookingStatus.Cancelled => "cancelled", BookingStatus.NoShow => "no_show", BookingStatus.Completed => "completed", _ => "closed",
                };
                var at = d.StatusOverrideAt ?? d.CloseAt ?? now;
                return new Participation("ended", consumer, null, new JsonObject
                {
                    ["type"] = type, ["at"] = Json.Iso(at), ["distributionId"] = d.Id, ["distributionType"] = Type,
                });
        }
    }

    public IReadOnlyList<JsonObject> Participants(DistributionBase distribution) =>
        Bookings((AppointmentDistribution)distribution).Select(b => new JsonObject
        {
            ["consumerId"] = b.ConsumerId, ["bookingId"] = b.Id, ["slotId"] = b.SlotId, ["startTime"] = Json.Iso(b.StartTime),
            ["endTime"] = Json.Iso(b.EndTime), ["status"] = b.Status, ["confirmationCode"] = b.ConfirmationCode,
        }).ToList();

    /// <summary>QA: N synthetic guests each book the earliest future slot with a free place (stops when none is left).</summary>
    public IReadOnlyList<string> Simulate(Organization org, DistributionBase distribution, int consumers)
    {
        var d = (AppointmentDistribution)distribution;
        return store.Transaction(() =>
        {
            var now = Now(org.Id);
            RequireOpen(d, now);
            var directory = services.GetRequiredService<ConsumerDirectory>();
            var places = PlacesBySlot(d).ToDictionary(kv => kv.Key, kv => kv.Value.Count);
            var booked = new List<string>();
            var to = d.CloseAt ?? now.AddDays(366);
            foreach (var slot in SlotsFrom(d, now, to))
            {
                while (booked.Count < consumers && places.GetValueOrDefault(slot.Id) < d.Capacity)
                {
                    var c = directory.Create(org.Id, "guest", guest: true);
                    Book(org, d, c.Id, slot.Id);
                    places[slot.Id] = places.GetValueOrDefault(slot.Id) + 1;
                    booked.Add(c.Id);
                }
                if (booked.Count >= consumers) break;
            }
            return booked;
        });
    }

    private static IEnumerable<AppointmentSlot> SlotsFrom(AppointmentDistribution d, DateTimeOffset now, DateTimeOffset to)
    {
        // Walk in windows so long-running appointments are not capped by MaxSlotsPerListing.
        var from = now;
        while (from < to)
        {
            var any = false;
            foreach (var s in Slots(d, from, to))
            {
                any = true;
                from = s.Start.AddTicks(1);
                if (s.Start > now) yield return s;
            }
            if (!any) yield break;
        }
    }
}
