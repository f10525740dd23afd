using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Ordering;

/// <summary>
/// Gives every event an order key when the stream reads it and counts, per order key, the events read
/// but not yet decided and not yet settled. It is what makes a run's alerts independent of timing:
/// <list type="bullet">
/// <item>The order key of an event is its source stream's event-time progress when the event was read
/// (the largest timestamp of that stream so far, a Kafka partition or a file), never below the
/// <see cref="Frontier"/>. It only grows along a stream, so it grows along every user's events, and it is
/// a function of the input alone.</item>
/// <item>Online thresholds change only at epoch boundaries of the order key, computed from the user-days
/// closed before the boundary; the decider may compute them only when <see cref="AllDecidedBefore"/> says
/// every event before the boundary has been decided, so they never depend on which events happened to be
/// scored first.</item>
/// <item>Alerts leave in order key order: one is released when <see cref="AllSettledThrough"/> says
/// nothing with a smaller or equal key can still produce one.</item>
/// </list>
/// Thread-safe: the source admits, the decider decides, the settlement stage settles.
/// </summary>
public sealed class DecisionLedger
{
    /// <summary>Keys are counted in buckets of this many milliseconds (exact for epoch boundaries, which are whole seconds).</summary>
    public const long BucketMs = 1000;

    private readonly object _gate = new();
    private readonly Dictionary<long, Counts> _buckets = new();
    // The buckets holding undecided (unsettled) events, so "is everything below decided" is the smallest of them.
    private readonly SortedSet<long> _undecidedBuckets = new(), _unsettledBuckets = new();
    private readonly Dictionary<SourceStream, long> _progress = new();
    private long _frontier = long.MinValue;
    private long _undecided, _unsettled, _admitted, _settled;
    private long _lastBucket = long.MinValue;
    private Counts? _last;

    /// <summary>No event admitted from now on gets a smaller key (keys below are decided for good).</summary>
    public long Frontier
    {
        get
        {
            lock (_gate) return _frontier;
        }
    }

    /// <summary>Events admitted and not yet settled (or dropped).</summary>
    public long Unsettled => Volatile.Read(ref _unsettled); // written under the lock; read on every admission, without it

    /// <summary>Events admitted and not yet decided (or dropped).</summary>
    public long Undecided
    {
        get
        {
            lock (_gate) return _undecided;
        }
    }

    /// <summary>Events settled or dropped, ever (progress, for a stall warning).</summary>
    public long SettledTotal
    {
        get
        {
            lock (_gate) return _settled;
        }
    }

    /// <summary>Events admitted, ever.</summary>
    public long Admitted
    {
        get
        {
            lock (_gate) return _admitted;
        }
    }

    /// <summary>Admits an event read from <paramref name="stream"/> at <paramref name="timestampMs"/>; returns its order key.</summary>
    public long Admit(SourceStream stream, long timestampMs)
    {
        lock (_gate)
        {
            long key = _progress.TryGetValue(stream, out long progress) && progress > timestampMs ? progress : timestampMs;
            _progress[stream] = key;
            if (key < _frontier) key = _frontier;
            AddLocked(key);
            return key;
        }
    }

    /// <summary>Admits an event whose key was given elsewhere (rescored after a crash, handed over by another stream).</summary>
    public void AdmitKey(long key)
    {
        lock (_gate) AddLocked(key);
    }

    /// <summary>
    /// <see cref="AdmitKey"/> for each of <paramref name="keys"/>, under one lock: the end markers of the sessions a
    /// partition batch closed (the watermark closes them together, usually under one key).
    /// </summary>
    public void AdmitKeys(IReadOnlyList<long> keys)
    {
        if (keys.Count == 0) return;
        lock (_gate)
            for (int i = 0; i < keys.Count; i++) AddLocked(keys[i]);
    }

    /// <summary>The event with this key is decided (its alert, if any, is known).</summary>
    public void Decided(long key)
    {
        lock (_gate)
        {
            var counts = BucketLocked(key);
            if (--counts.Undecided == 0) _undecidedBuckets.Remove(Bucket(key));
            _undecided--;
        }
    }

    /// <summary>The event with this key is settled with its partition (its alert, if any, journaled).</summary>
    public void Settled(long key)
    {
        lock (_gate)
        {
            var counts = BucketLocked(key);
            if (--counts.Unsettled == 0) _unsettledBuckets.Remove(Bucket(key));
            _unsettled--;
            _settled++;
            if (counts.Unsettled == 0 && counts.Undecided == 0) RemoveLocked(key);
        }
    }

    /// <summary>The event was dropped (a replay of an event persisted before, or handed to another stream): nothing waits for it.</summary>
    public void Dropped(long key)
    {
        lock (_gate)
        {
            var counts = BucketLocked(key);
            if (--counts.Undecided == 0) _undecidedBuckets.Remove(Bucket(key));
            if (--counts.Unsettled == 0) _unsettledBuckets.Remove(Bucket(key));
            _undecided--;
            _unsettled--;
            _settled++;
            if (counts.Unsettled == 0 && counts.Undecided == 0) RemoveLocked(key);
        }
    }

    /// <summary>
    /// Holds <paramref name="key"/> undecided and unsettled without counting an event: the routing stage reserves the
    /// smallest key of a partition batch while the partition persists it, because folding the batch may close
    /// sessions whose end markers (keys at or above it) are admitted only once the answer is back
    /// (<see cref="AdmitKey"/>); meanwhile no threshold interval or alert release may pass them. <see cref="Release"/> ends it.
    /// </summary>
    public void Reserve(long key)
    {
        lock (_gate)
        {
            var counts = BucketLocked(key);
            if (counts.Undecided++ == 0) _undecidedBuckets.Add(Bucket(key));
            if (counts.Unsettled++ == 0) _unsettledBuckets.Add(Bucket(key));
            _undecided++;
            _unsettled++;
        }
    }

    /// <summary>Ends a <see cref="Reserve"/> of <paramref name="key"/>.</summary>
    public void Release(long key)
    {
        lock (_gate)
        {
            var counts = BucketLocked(key);
            if (--counts.Undecided == 0) _undecidedBuckets.Remove(Bucket(key));
            if (--counts.Unsettled == 0) _unsettledBuckets.Remove(Bucket(key));
            _undecided--;
            _unsettled--;
            if (counts.Unsettled == 0 && counts.Undecided == 0) RemoveLocked(key);
        }
    }

    /// <summary>Whether every admitted event with a key below <paramref name="key"/> is decided (a whole second's bucket counts as below once it starts below).</summary>
    public bool AllDecidedBefore(long key)
    {
        lock (_gate) return _undecidedBuckets.Count == 0 || _undecidedBuckets.Min * BucketMs >= key;
    }

    /// <summary>Whether every admitted event with a key at or below <paramref name="key"/> (to the end of its second) is settled.</summary>
    public bool AllSettledThrough(long key)
    {
        long limit = Bucket(key);
        lock (_gate) return _unsettledBuckets.Count == 0 || _unsettledBuckets.Min > limit;
    }

    /// <summary>Raises the frontier: events admitted later get at least this key.</summary>
    public void AdvanceFrontier(long key)
    {
        lock (_gate)
            if (key > _frontier) _frontier = key;
    }

    private static long Bucket(long key) => key >= 0 ? key / BucketMs : (key - BucketMs + 1) / BucketMs;

    private void AddLocked(long key)
    {
        var counts = BucketLocked(key);
        if (counts.Undecided++ == 0) _undecidedBuckets.Add(Bucket(key));
        if (counts.Unsettled++ == 0) _unsettledBuckets.Add(Bucket(key));
        _undecided++;
        _unsettled++;
        _admitted++;
    }

    private Counts BucketLocked(long key)
    {
        long bucket = Bucket(key);
        if (bucket == _lastBucket && _last is not null) return _last;
        if (!_buckets.TryGetValue(bucket, out var counts))
        {
            counts = new Counts();
            _buckets[bucket] = counts;
        }
        _lastBucket = bucket;
        _last = counts;
        return counts;
    }

    private void RemoveLocked(long key)
    {
        long bucket = Bucket(key);
        _buckets.Remove(bucket);
        if (bucket == _lastBucket)
        {
            _lastBucket = long.MinValue;
            _last = null;
        }
    }

    private sealed class Counts
    {
        public long Undecided;
        public long Unsettled;
    }
}
