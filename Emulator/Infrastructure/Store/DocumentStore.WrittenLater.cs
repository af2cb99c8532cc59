namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>
/// A transaction written to the file later (issue 15, start-up row): the seed of an <b>empty</b> store at start is kept in
/// memory and written once the emulator serves (<see cref="PersistWrittenLater"/>, in the background), or by the next
/// transaction before it runs, or at the stop — whichever comes first. Its JSON and
/// LiteDB work (the first of the process: ≈ 100 ms of start-up, most of it compiling System.Text.Json code) is then off
/// the path to the first response.
/// <para>Nothing acknowledged can be lost by this: no request writes anything before the seed is in the file (the first
/// transaction waits for it to be written before it runs), and a process killed before that
/// leaves an empty file, which the next start seeds again, deterministically (same ids, keys and codes; times from that
/// start's clock).</para>
/// </summary>
public sealed partial class DocumentStore
{
    /// <summary>The journal of the transaction whose write is deferred, until it is queued (under <see cref="_sync"/>).</summary>
    private Journal? _writtenLater;

    /// <summary>Set while <see cref="TransactionWrittenLater"/> runs: the next outermost <see cref="Enqueue"/> keeps its
    /// journal in <see cref="_writtenLater"/> instead of queueing it.</summary>
    private bool _writeNextLater;

    /// <summary>Runs <paramref name="work"/> as one transaction (atomic in memory as any other) whose write to the file is
    /// deferred (see the type's remarks). Only on an empty store, with no transaction open.</summary>
    public void TransactionWrittenLater(Action work)
    {
        lock (_sync)
        {
            if (_depth != 0 || _writtenLater is not null || !IsEmpty)
                throw new InvalidOperationException("a deferred write is for the first transaction of an empty store");
            _writeNextLater = true;
            try { Transaction(work); }
            finally { _writeNextLater = false; }
        }
    }

    /// <summary>Writes the deferred transaction now, if it is still waiting, and returns once it is in the file (holding
    /// <see cref="_sync"/> throughout, so no other transaction runs before it). A write LiteDB refuses rolls the
    /// transaction back in memory (the store is empty again) and throws, as for any transaction.</summary>
    public void PersistWrittenLater()
    {
        lock (_sync)
        {
            if (_writtenLater is not { } journal) return;
            _writtenLater = null;
            if (Enqueue(journal) is { } tx) WaitCommitted(tx);
        }
    }

    /// <summary>Whether a deferred transaction is still waiting to be queued (tests).</summary>
    internal bool HasWriteLater
    {
        get { lock (_sync) return _writtenLater is not null; }
    }
}
