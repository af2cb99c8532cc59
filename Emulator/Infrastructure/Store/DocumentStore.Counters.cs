namespace Fanfare.Emulator.Infrastructure.Store;

/// <summary>Counters of the data file's activity since the process started (<c>GET /_emulator/info</c> <c>store</c>; the
/// bench's commits per second, issue 11).</summary>
public sealed partial class DocumentStore
{
    /// <summary>Write transactions committed to the data file (each <see cref="Transaction"/> that wrote, a reset, an
    /// import); written under the commit lock.</summary>
    private long _transactionsCommitted;

    /// <summary>Write transactions committed to the data file since start.</summary>
    public long TransactionsCommitted => Volatile.Read(ref _transactionsCommitted);

    /// <summary>LiteDB commits of the data file since start: each holds one or more transactions (group commit), so
    /// <see cref="TransactionsCommitted"/> ÷ <see cref="FileCommits"/> is the mean batch.</summary>
    public long FileCommits => Volatile.Read(ref _commits);
}
