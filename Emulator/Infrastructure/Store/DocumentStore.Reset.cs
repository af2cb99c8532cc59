namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>What <see cref="Clear"/> (<c>POST /_emulator/reset</c>, a snapshot import) keeps so that refilling the store
/// costs less than filling it the first time.</summary>
public sealed partial class DocumentStore
{
    /// <summary>At most this many entries are reserved up front for a table re-created after <see cref="Clear"/> (the
    /// default seed's largest table holds ~15 documents; a table that held thousands grows again as usual).</summary>
    private const int ReservedAfterClear = 64;

    /// <summary>The initial capacity of a new table: inside the transaction that cleared the store, as many entries as
    /// the table held before (a reset refills the tables with the same seed), up to <see cref="ReservedAfterClear"/>;
    /// otherwise none. Capacity changes no order: tables iterate in insertion order whatever they reserved.</summary>
    private int TableCapacity(Slot s) =>
        _journal?.BeforeClear is { } before && before.TryGetValue(s, out var old) ? Math.Min(old.Count, ReservedAfterClear) : 0;
}
