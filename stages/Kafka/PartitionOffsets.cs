namespace StreamDetect.Stages.Kafka;

/// <summary>
/// The offsets of one partition that were emitted downstream, in order, and which of them are done.
/// The commit offset is the first offset not yet done (or one past the last emitted when all are done):
/// everything below it is done, whatever order the completions arrived in. Offsets are registered as
/// they are emitted rather than assumed contiguous, because Kafka logs have holes (transaction markers,
/// compaction). Not thread-safe; <see cref="OffsetTracker"/>'s owner serializes access.
/// </summary>
internal sealed class PartitionOffsets
{
    private long[] _offsets = new long[64];
    private bool[] _done = new bool[64];
    private int _head;
    private int _count;
    private int _doneInWindow;

    public PartitionOffsets(int epoch)
    {
        Epoch = epoch;
    }

    /// <summary>Which assignment of the partition this is; completions from another epoch are ignored.</summary>
    public int Epoch { get; }

    /// <summary>The last offset emitted, or -1.</summary>
    public long LastRegistered { get; private set; } = -1;

    /// <summary>
    /// The last commit offset sent successfully; before any, the first emitted offset (where reading
    /// started: the group's committed offset or the reset position, so there is nothing to commit yet).
    /// -1 before anything was emitted.
    /// </summary>
    public long LastCommitted { get; private set; } = -1;

    /// <summary>Emitted records not yet done.</summary>
    public int Outstanding => _count - _doneInWindow;

    /// <summary>The offset to commit (next to read after the done prefix); null before anything was emitted.</summary>
    public long? CommitOffset => LastRegistered < 0 ? null : _count > 0 ? _offsets[_head] : LastRegistered + 1;

    /// <summary>Whether <see cref="CommitOffset"/> is ahead of what was last committed.</summary>
    public bool HasNewCommit => CommitOffset is long next && next > LastCommitted;

    /// <summary>Records an emitted offset; offsets must increase.</summary>
    public void Register(long offset)
    {
        if (offset <= LastRegistered)
            throw new InvalidOperationException($"offset {offset} registered after {LastRegistered}; offsets of a partition must increase");
        if (_count == _offsets.Length) Grow();
        int slot = (_head + _count) & (_offsets.Length - 1);
        _offsets[slot] = offset;
        _done[slot] = false;
        _count++;
        if (LastRegistered < 0 && LastCommitted < offset) LastCommitted = offset;
        LastRegistered = offset;
    }

    /// <summary>Marks an emitted offset done; false when it is unknown, below the done prefix, or already done.</summary>
    public bool Complete(long offset)
    {
        if (_count == 0 || offset < _offsets[_head] || offset > LastRegistered) return false;
        int slot = Find(offset);
        if (slot < 0 || _done[slot]) return false;
        _done[slot] = true;
        _doneInWindow++;
        int mask = _offsets.Length - 1;
        while (_count > 0 && _done[_head])
        {
            _head = (_head + 1) & mask;
            _count--;
            _doneInWindow--;
        }
        return true;
    }

    /// <summary>Records that <paramref name="offset"/> was committed.</summary>
    public void Committed(long offset)
    {
        if (offset > LastCommitted) LastCommitted = offset;
    }

    private int Find(long offset)
    {
        int mask = _offsets.Length - 1;
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long value = _offsets[(_head + mid) & mask];
            if (value == offset) return (_head + mid) & mask;
            if (value < offset) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    private void Grow()
    {
        int length = _offsets.Length;
        var offsets = new long[length * 2];
        var done = new bool[length * 2];
        for (int i = 0; i < _count; i++)
        {
            offsets[i] = _offsets[(_head + i) & (length - 1)];
            done[i] = _done[(_head + i) & (length - 1)];
        }
        _offsets = offsets;
        _done = done;
        _head = 0;
    }
}
