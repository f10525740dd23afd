namespace StreamDetect.Engine.Entities;

/// <summary>
/// When a partition snapshots. A snapshot is due after <c>every</c> events; it must be taken at a
/// moment with no journal write in flight, so that its sequence number covers exactly the state it
/// holds. Once one is due, the partition holds back every message that would write (batches,
/// settlements with alerts, confirmation flushes) until the writes in flight have finished, then takes
/// it: with nothing new starting, that moment always comes, whatever the mix of writes — the snapshot is
/// never postponed by the next write.
/// </summary>
public sealed class SnapshotSchedule(int every)
{
    private long _since;
    private bool _requested;

    /// <summary>Journal writes started and not yet finished.</summary>
    public int WritesInFlight { get; private set; }

    /// <summary>Events applied since the last snapshot.</summary>
    public long EventsSinceSnapshot => _since;

    /// <summary>A snapshot is due (after <c>every</c> events, or asked for): hold back new writes.</summary>
    public bool Due => _since >= every || _requested;

    /// <summary>Due, and nothing is being written: take it now.</summary>
    public bool CanTake => Due && WritesInFlight == 0;

    public void WriteStarted() => WritesInFlight++;

    public void WriteFinished()
    {
        if (WritesInFlight == 0) throw new InvalidOperationException("a write finished that was never started");
        WritesInFlight--;
    }

    public void EventsApplied(long count) => _since += count;

    /// <summary>Makes a snapshot due now, whatever the count (at the end of a stream).</summary>
    public void Request() => _requested = true;

    /// <summary>The snapshot was taken (or the state was restored from one).</summary>
    public void Taken()
    {
        _since = 0;
        _requested = false;
    }
}
