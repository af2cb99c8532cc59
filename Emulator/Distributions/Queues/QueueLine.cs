namespace Fanfare.Emulator.Distributions.Queues;

/// <summary>
/// In-memory index of one queue (rebuilt from the store on first use and after a reset): every participation by consumer
/// id, and the QUEUED consumers in entry order in slots backed by a Fenwick tree, so that a position (rank among QUEUED
/// consumers) is O(log n), entering and leaving are O(log n) amortized, and admitting from the front is amortized O(1)
/// per admitted consumer. Not thread-safe: callers hold the store lock.
/// </summary>
internal sealed class QueueLine
{
    private readonly Dictionary<string, QueueParticipant> _byConsumer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _slotOf = new(StringComparer.Ordinal);
    private QueueParticipant?[] _slots = new QueueParticipant?[64];
    private int[] _tree = new int[65];
    private int _used;   // slots handed out
    private int _head;   // no QUEUED consumer before this slot

    /// <summary>Consumers currently QUEUED.</summary>
    public int QueuedCount { get; private set; }

    /// <summary>Greatest <see cref="QueueParticipant.Seq"/> handed out.</summary>
    public long MaxSeq { get; private set; }

    public static QueueLine Build(IEnumerable<QueueParticipant> participants)
    {
        var line = new QueueLine();
        foreach (var p in participants.OrderBy(p => p.Seq))
        {
            line._byConsumer[p.ConsumerId] = p;
            line.MaxSeq = Math.Max(line.MaxSeq, p.Seq);
            if (p.Status == QueueStatuses.Queued) line.Append(p);
        }
        return line;
    }

    public QueueParticipant? Get(string consumerId) => _byConsumer.GetValueOrDefault(consumerId);

    public IEnumerable<QueueParticipant> All => _byConsumer.Values;

    /// <summary>Registers a new participation (not yet queued).</summary>
    public void Track(QueueParticipant p) => _byConsumer[p.ConsumerId] = p;

    public void Forget(string consumerId)
    {
        Remove(consumerId);
        _byConsumer.Remove(consumerId);
    }

    /// <summary>Puts the consumer at the back: assigns the next <see cref="QueueParticipant.Seq"/>, returns its position.</summary>
    public int Enqueue(QueueParticipant p)
    {
        _byConsumer[p.ConsumerId] = p;
        p.Seq = ++MaxSeq;
        Append(p);
        return QueuedCount;
    }

    private void Append(QueueParticipant p)
    {
        if (_used == _slots.Length) Grow();
        var slot = _used++;
        _slots[slot] = p;
        _slotOf[p.ConsumerId] = slot;
        Add(slot, +1);
        QueuedCount++;
    }

    /// <summary>Takes the consumer out of the waiting line (admitted, left, denied). No-op when not waiting.</summary>
    public bool Remove(string consumerId)
    {
        if (!_slotOf.Remove(consumerId, out var slot)) return false;
        _slots[slot] = null;
        Add(slot, -1);
        QueuedCount--;
        return true;
    }

    /// <summary>1-based rank among QUEUED consumers, or null when not waiting.</summary>
    public int? Position(string consumerId) => _slotOf.TryGetValue(consumerId, out var slot) ? Prefix(slot) : null;

    /// <summary>The first <paramref name="n"/> waiting consumers, front first (not removed).</summary>
    public List<QueueParticipant> Front(int n)
    {
        var list = new List<QueueParticipant>(Math.Min(n, QueuedCount));
        while (_head < _used && _slots[_head] is null) _head++;
        for (int i = _head; i < _used && list.Count < n; i++)
            if (_slots[i] is { } p) list.Add(p);
        return list;
    }

    /// <summary>Waiting consumers in order (QA listings).</summary>
    public IEnumerable<QueueParticipant> Waiting()
    {
        for (int i = _head; i < _used; i++)
            if (_slots[i] is { } p) yield return p;
    }

    private void Grow()
    {
        // Compact out the admitted/left front while growing, then rebuild the tree: amortized O(1) per slot.
        var live = new List<QueueParticipant>(QueuedCount);
        for (int i = 0; i < _used; i++) if (_slots[i] is { } p) live.Add(p);
        var size = Math.Max(64, live.Count * 2);
        _slots = new QueueParticipant?[size];
        _tree = new int[size + 1];
        _used = 0; _head = 0;
        _slotOf.Clear();
        foreach (var p in live)
        {
            _slots[_used] = p;
            _slotOf[p.ConsumerId] = _used;
            _tree[_used + 1] = 1;
            _used++;
        }
        for (int i = 1; i <= size; i++)
        {
            var parent = i + (i & -i);
            if (parent <= size) _tree[parent] += _tree[i];
        }
    }

    private void Add(int slot, int delta)
    {
        for (int i = slot + 1; i < _tree.Length; i += i & -i) _tree[i] += delta;
    }

    private int Prefix(int slot)
    {
        int sum = 0;
        for (int i = slot + 1; i > 0; i -= i & -i) sum += _tree[i];
        return sum;
    }
}
