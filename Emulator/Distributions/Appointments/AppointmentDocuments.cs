using System.Text.Json.Nodes;
using Fanfare.Emulator.Distributions;
using Fanfare.Emulator.Distributions.Experiences;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Distributions.Appointments;

/// <summary>
/// An appointment distribution (behavior.md §3.6): bookable slots between <c>openAt</c> and <c>closeAt</c>, each
/// <see cref="SlotDurationMinutes"/> long, starting every duration + <see cref="BufferMinutes"/> (30 + 10 ⇒ 9:00, 9:40,
/// 10:20 …), holding up to <see cref="MaxCapacityPerSlot"/> bookings. Shape: admin-part1.md <c>Appointment</c>.
/// </summary>
public sealed class AppointmentDistribution : DistributionBase
{
    public override string DistributionType => DistributionTypes.Appointment;
    public int? SlotDurationMinutes { get; set; }
    public int? BufferMinutes { get; set; }
    public int? MaxCapacityPerSlot { get; set; }
    public string? LocationId { get; set; }

    /// <summary>Defaults when unset: 30-minute slots, no buffer, one booking per slot.</summary>
    public int Duration => SlotDurationMinutes is > 0 ? SlotDurationMinutes.Value : 30;
    public int Buffer => BufferMinutes is >= 0 ? BufferMinutes.Value : 0;
    public int Capacity => MaxCapacityPerSlot is > 0 ? MaxCapacityPerSlot.Value : 1;

    /// <summary>The type-specific fields (null when unset), added to <see cref="DistributionBase.CommonJson"/>.</summary>
    public void AddFields(JsonObject o)
    {
        o["bufferMinutes"] = BufferMinutes;
        o["locationId"] = LocationId;
        o["maxCapacityPerSlot"] = MaxCapacityPerSlot;
        o["slotDurationMinutes"] = SlotDurationMinutes;
    }
}

/// <summary>Booking statuses. Journey (<c>AppointmentConsumer.status</c>) spells <see cref="Confirmed"/> as <c>booked</c>.</summary>
public static class BookingStatus
{
    public const string Confirmed = "confirmed", Cancelled = "cancelled", CheckedIn = "checked_in", Completed = "completed", NoShow = "no_show";

    /// <summary>Holds a place in its slot.</summary>
    public static bool TakesPlace(string s) => s != Cancelled;
    /// <summary>The consumer's current booking (cancel / reschedule apply).</summary>
    public static bool IsCurrent(string s) => s is Confirmed or CheckedIn;
}

/// <summary>A consumer's booking of one slot of an appointment.</summary>
public sealed class AppointmentBooking : IDocument
{
    /// <summary>The <c>bookingId</c>.</summary>
    public string Id { get; set; } = "";
    public string OrganizationId { get; set; } = "";
    public string AppointmentId { get; set; } = "";
    public string SequenceId { get; set; } = "";
    public string ExperienceId { get; set; } = "";
    public string ConsumerId { get; set; } = "";
    public string SlotId { get; set; } = "";
    public DateTimeOffset StartTime { get; set; }
    public DateTimeOffset EndTime { get; set; }
    public string ConfirmationCode { get; set; } = "";
    /// <summary><see cref="BookingStatus"/> value.</summary>
    public string Status { get; set; } = BookingStatus.Confirmed;
    public string? LocationId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public string? CancelReason { get; set; }
    /// <summary><c>consumer</c> or <c>admin</c>.</summary>
    public string? CancelledBy { get; set; }
    public DateTimeOffset? CheckedInAt { get; set; }
    public List<string> PreviousSlotIds { get; set; } = [];
}
