using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// One user's events in time order, with the end markers of its sessions between them when the dataset was built
/// with a <see cref="SessionRule"/>: an entry is either an event or the marker of the session that ended right
/// before (after an end type such as logout, before an event that the gap or a change of the session field closes
/// it for, and after the user's last event: the end of the input). Models see them only as <see cref="Entries"/>
/// (window entries) and <see cref="BehaviorSample"/>s built by replaying them through <see cref="UserBehaviorState"/>;
/// the ground-truth labels stay inside (evaluation and the "train on normal users" filter read them).
/// </summary>
public sealed class UserSequence
{
    private readonly UserEvent[] _events;
    private readonly SessionRule? _sessions;

    /// <summary>Per entry: the index of its event (&gt;= 0), or <c>~k</c> for the end marker of the k-th session.</summary>
    private readonly int[] _slots;

    /// <summary>Per session (in order): its label, 1 when any of its events is labelled anomalous.</summary>
    private readonly int[] _sessionLabels;

    private WindowEntry[]? _entries;

    internal UserSequence(string userId, UserEvent[] events, SessionRule? sessions)
    {
        if (events.Length == 0) throw new ArgumentException("a user sequence needs at least one event", nameof(events));
        UserId = userId;
        _events = events;
        _sessions = sessions;
        (_slots, _sessionLabels) = sessions is null ? (Enumerable.Range(0, events.Length).ToArray(), []) : PlaceMarkers(events, sessions);
    }

    public string UserId { get; }

    /// <summary>The rule that placed the end markers, or null when the dataset has none.</summary>
    internal SessionRule? Sessions => _sessions;

    /// <summary>Entries: the user's events plus the end markers of its sessions.</summary>
    public int Count => _slots.Length;

    /// <summary>The user's events (markers not counted).</summary>
    public int EventCount => _events.Length;

    /// <summary>End markers among the entries.</summary>
    public int MarkerCount => _slots.Length - _events.Length;

    public long FirstEventMs => _events[0].TimestampMs;

    public long LastEventMs => _events[^1].TimestampMs;

    /// <summary>Whether entry <paramref name="index"/> is a session end marker rather than an event.</summary>
    public bool IsEndMarker(int index) => _slots[index] < 0;

    /// <summary>Time of entry <paramref name="index"/> (a marker has the time of its session's last event).</summary>
    public long TimestampMs(int index) => Entries[index].TimestampMs;

    /// <summary>Every entry as the per-user window stores it (same types, times, amounts and hashes; markers as
    /// <see cref="SessionRule.EndMarker"/>).</summary>
    public WindowEntry[] Entries => _entries ??= BuildEntries();

    /// <summary>A cursor that replays this user through a fresh <see cref="UserBehaviorState"/>.</summary>
    public UserReplay StartReplay(int windowCapacity) => new(this, windowCapacity);

    /// <summary>
    /// Replays the user and yields a sample after every entry at or after <paramref name="fromMs"/>
    /// (earlier entries only build up the state).
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

    /// <summary>The event of entry <paramref name="index"/>, or null for an end marker.</summary>
    internal UserEvent? EventAt(int index) => _slots[index] >= 0 ? _events[_slots[index]] : null;

    /// <summary>Ground truth of entry <paramref name="index"/> (absent = 0); an end marker carries its session's label
    /// (1 when any event of the session is labelled anomalous). For evaluation only.</summary>
    internal int LabelAt(int index)
    {
        int slot = _slots[index];
        return slot >= 0 ? (_events[slot].Label == 1 ? 1 : 0) : _sessionLabels[~slot];
    }

    /// <summary>Whether any event in [fromMs, untilMs) is labelled anomalous. For evaluation and filtering only.</summary>
    internal bool HasPositiveLabel(long fromMs = long.MinValue, long untilMs = long.MaxValue)
    {
        foreach (var e in _events)
            if (e.Label == 1 && e.TimestampMs >= fromMs && e.TimestampMs < untilMs) return true;
        return false;
    }

    internal bool HasAnyLabel => _events.Any(e => e.Label is not null);

    /// <summary>The events before <paramref name="cutMs"/>, or null when there are none; the cut is an end of input
    /// (its open session is closed there).</summary>
    /// <summary>The sequence without the events whose type <paramref name="drop"/> names (session markers placed again by
    /// the same rule); this one when none is dropped, null when none is left.</summary>
    internal UserSequence? Without(Func<string, bool> drop)
    {
        var kept = _events.Where(e => !drop(e.Type)).ToArray();
        if (kept.Length == 0) return null;
        return kept.Length == _events.Length ? this : new UserSequence(UserId, kept, _sessions);
    }

    internal UserSequence? Before(long cutMs)
    {
        int count = 0;
        while (count < _events.Length && _events[count].TimestampMs < cutMs) count++;
        if (count == 0) return null;
        return count == _events.Length ? this : new UserSequence(UserId, _events[..count], _sessions);
    }

    /// <summary>Where the rule closes sessions, as <see cref="UserBehaviorState"/> does it for the stream: before an
    /// event when <see cref="SessionRule.ClosesBefore"/> says so, right after an end type, and after the last event.</summary>
    private static (int[] Slots, int[] SessionLabels) PlaceMarkers(UserEvent[] events, SessionRule rule)
    {
        var slots = new List<int>(events.Length + events.Length / 4 + 1);
        var labels = new List<int>();
        bool open = false;
        int label = 0;
        long lastMs = 0;
        string? lastSession = null;
        void Close()
        {
            if (!open) return;
            slots.Add(~labels.Count);
            labels.Add(label);
            open = false;
            label = 0;
        }
        for (int i = 0; i < events.Length; i++)
        {
            var e = events[i];
            if (open && rule.ClosesBefore(lastMs, lastSession, e.TimestampMs, e.Session)) Close();
            slots.Add(i);
            open = true;
            if (e.Label == 1) label = 1;
            lastMs = i == 0 ? e.TimestampMs : Math.Max(e.TimestampMs, lastMs); // as the profile keeps its last time
            lastSession = e.Session;
            if (rule.EndsSession(e.Type)) Close();
        }
        Close();
        return (slots.ToArray(), labels.ToArray());
    }

    private WindowEntry[] BuildEntries()
    {
        var state = new UserBehaviorState(1);
        var entries = new WindowEntry[_slots.Length];
        for (int k = 0; k < _slots.Length; k++)
        {
            if (_slots[k] >= 0) state.Apply(_events[_slots[k]]);
            else state.CloseSession();
            entries[k] = state.Window.Last;
        }
        return entries;
    }
}
