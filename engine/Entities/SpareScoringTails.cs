using StreamDetect.Models.Features;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A partition's emptied scoring tails, kept for its users' next unscored events. A tail lives from a user's first
/// unscored event until the settlement that confirms the last one, so most requests made and dropped one, with five
/// lists grown event by event and a copy of the user's window (the allocation profile of `bench` end to end: the window
/// copies 57 and the lists' growth ~170 bytes per event). A recycled tail keeps its lists, context and rows' array. Owned by one partition (its actor's thread); at most <see cref="Capacity"/> kept,
/// and none whose rows' array grew past <see cref="MaxRows"/> rows, so what the spares hold is bounded per partition.
/// </summary>
public sealed class SpareScoringTails
{
    /// <summary>At most this many spares per partition: the tails a settlement drops in one partition at the default batch and partition count (1024 / 64).</summary>
    public const int Capacity = 16;

    /// <summary>
    /// A tail whose rows' array holds more rows than this (a burst of one user's events) is released, not kept: the spares
    /// hold at most Capacity arrays of 4,096 floats (16 KB) per partition. Busy users' tails grow to 17-68 rows between
    /// two settlements (measured), which is where the shared pool's misses were.
    /// </summary>
    public const int MaxRows = 64;

    private readonly Stack<ScoringTail> _spares = new();
    private readonly int _windowSize;

    public SpareScoringTails(int windowSize) => _windowSize = windowSize;

    /// <summary>Spares kept now.</summary>
    public int Count => _spares.Count;

    /// <summary>
    /// A tail for the user's unscored events from <paramref name="firstEventIndex"/> on, its context <paramref name="window"/>
    /// (the user's window before that event): a spare restarted, or a new one sized for <paramref name="expected"/> events.
    /// </summary>
    public ScoringTail Take(EventWindow window, long firstEventIndex, int expected = 4)
    {
        if (!_spares.TryPop(out var tail)) return new ScoringTail(window.ToArray(), firstEventIndex, _windowSize, expected) { Spares = this };
        tail.Restart(window, firstEventIndex);
        return tail;
    }

    /// <summary>
    /// A tail taken from here outgrew its rows' array <paramref name="smaller"/>: a spare whose array holds at least
    /// <paramref name="length"/> floats takes <paramref name="smaller"/> and hands its own over (null: none has one). The
    /// rows' arrays stay in the partition instead of going through the shared pool, which missed on most of these.
    /// </summary>
    public float[]? TradeUp(float[] smaller, int length)
    {
        foreach (var spare in _spares)
            if (spare.RowsCapacity >= length) return spare.TradeRows(smaller);
        return null;
    }

    /// <summary>The owner dropped <paramref name="tail"/> (nothing else refers to it): kept as a spare, or released.</summary>
    public void Give(ScoringTail tail)
    {
        if (_spares.Count >= Capacity)
        {
            tail.Release();
            return;
        }
        if (tail.Recycle(MaxRows)) _spares.Push(tail);
    }
}
