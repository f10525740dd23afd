using StreamDetect.Models.Events;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Sessions;

/// <summary>
/// Decides where sessions end, from event time and the events themselves only (never wall-clock time), so that a
/// replay of the same events closes the same sessions at the same places. A closed session is marked in the user's
/// window by an end marker (<see cref="EndMarker"/>, type <see cref="EventTypes.SessionEnd"/>, time of the session's
/// last event) that models score like any event.
/// </summary>
public sealed class SessionRule
{
    private readonly HashSet<string> _endTypes;

    public SessionRule(SessionSettings settings)
    {
        settings.Validate();
        Settings = settings;
        _endTypes = new HashSet<string>(settings.EndTypes, StringComparer.Ordinal);
    }

    public SessionSettings Settings { get; }

    /// <summary>Whether an event of this type closes its session right after itself (e.g. logout).</summary>
    public bool EndsSession(string type) => _endTypes.Contains(type);

    /// <summary>
    /// Whether the open session, whose last event was at <paramref name="lastMs"/> with session field
    /// <paramref name="lastSession"/>, is closed before an event at <paramref name="nextMs"/> with session field
    /// <paramref name="nextSession"/>: the gap is longer than <see cref="SessionSettings.GapMs"/>, or the session
    /// field changed (when both are present and splitting on it is on).
    /// </summary>
    public bool ClosesBefore(long lastMs, string? lastSession, long nextMs, string? nextSession) =>
        nextMs - lastMs > Settings.GapMs
        || (Settings.SplitOnSessionField && lastSession is not null && nextSession is not null
            && !string.Equals(lastSession, nextSession, StringComparison.Ordinal));

    /// <summary>Whether a session whose last event was at <paramref name="lastMs"/> is idle at event time
    /// <paramref name="watermarkMs"/> (no later event can arrive inside the gap any more).</summary>
    public bool IsIdleAt(long lastMs, long watermarkMs) => watermarkMs - lastMs > Settings.GapMs;

    /// <summary>The window entry that marks the end of a session whose last event was at <paramref name="lastMs"/>.</summary>
    public static WindowEntry EndMarker(long lastMs) => new(EventTypes.SessionEnd, lastMs, float.NaN, 0, 0);

    /// <summary>Whether a window entry is a session end marker rather than a user's event.</summary>
    public static bool IsEndMarker(in WindowEntry entry) => ReferenceEquals(entry.Type, EventTypes.SessionEnd)
        || string.Equals(entry.Type, EventTypes.SessionEnd, StringComparison.Ordinal);
}
