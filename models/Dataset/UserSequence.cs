using StreamDetect.Models.Events;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// One user's events in time order. Models see them only as <see cref="Entries"/> (window entries) and
/// <see cref="BehaviorSample"/>s built by replaying them through <see cref="UserBehaviorState"/>; the
/// ground-truth labels stay inside (evaluation and the "train on normal users" filter read them).
/// </summary>
public sealed class UserSequence
{
    private readonly UserEvent[] _events;
    private WindowEntry[]? _entries;

    internal UserSequence(string userId, UserEvent[] events)
    {
        if (events.Length == 0) throw new ArgumentException("a user sequence needs at least one event", nameof(events));
        UserId = userId;
        _events = events;
    }

    public string UserId { get; }

    public int Count => _events.Length;

    public long FirstEventMs => _events[0].TimestampMs;

    public long LastEventMs => _events[^1].TimestampMs;

    /// <summary>Time of event <paramref name="index"/>.</summary>
    public long TimestampMs(int index) => _events[index].TimestampMs;

    /// <summary>Every event as the per-user window stores it (same types, times, amounts and hashes).</summary>
    public WindowEntry[] Entries => _entries ??= BuildEntries();

    /// <summary>A cursor that replays this user through a fresh <see cref="UserBehaviorState"/>.</summary>
    public UserReplay StartReplay(int windowCapacity) => new(this, windowCapacity);

    /// <summary>
    /// Replays the user and yields a sample after every event at or after <paramref name="fromMs"/>
    /// (earlier events only build up the state).
    /// </summary>
    public IEnumerable<BehaviorSample> Replay(int windowCapacity, long fromMs = long.MinValue)
    {
        var replay = StartReplay(windowCapacity);
        while (replay.HasNext)
        {
            replay.Advance();
            if (replay.LastTimestampMs >= fromMs) yield return replay.Sample();
        }
    }

    internal UserEvent EventAt(int index) => _events[index];

    /// <summary>Ground truth of event <paramref name="index"/> (absent = 0). For evaluation only.</summary>
    internal int LabelAt(int index) => _events[index].Label == 1 ? 1 : 0;

    /// <summary>Whether any event in [fromMs, untilMs) is labelled anomalous. For evaluation and filtering only.</summary>
    internal bool HasPositiveLabel(long fromMs = long.MinValue, long untilMs = long.MaxValue)
    {
        foreach (var e in _events)
            if (e.Label == 1 && e.TimestampMs >= fromMs && e.TimestampMs < untilMs) return true;
        return false;
    }

    internal bool HasAnyLabel => _events.Any(e => e.Label is not null);

    /// <summary>The events before <paramref name="cutMs"/>, or null when there are none.</summary>
    internal UserSequence? Before(long cutMs)
    {
        int count = 0;
        while (count < _events.Length && _events[count].TimestampMs < cutMs) count++;
        if (count == 0) return null;
        return count == _events.Length ? this : new UserSequence(UserId, _events[..count]);
    }

    private WindowEntry[] BuildEntries()
    {
        var state = new UserBehaviorState(1);
        var entries = new WindowEntry[_events.Length];
        for (int i = 0; i < _events.Length; i++)
        {
            state.Apply(_events[i]);
            entries[i] = state.Window.Last;
        }
        return entries;
    }
}
