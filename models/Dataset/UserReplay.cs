using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Dataset;

/// <summary>
/// Replays one user's entries (events and session end markers), one at a time, through a <see cref="UserBehaviorState"/>
/// — what the streaming engine's user entity does — and keeps a detector's per-user state slot beside it.
/// </summary>
public sealed class UserReplay
{
    private readonly UserSequence _user;
    private readonly UserBehaviorState _state;

    internal UserReplay(UserSequence user, int windowCapacity)
    {
        _user = user;
        _state = new UserBehaviorState(windowCapacity);
    }

    public UserSequence User => _user;

    /// <summary>Entries (events and end markers) applied so far.</summary>
    public int Position { get; private set; }

    public bool HasNext => Position < _user.Count;

    /// <summary>Time of the next entry (valid while <see cref="HasNext"/>).</summary>
    public long NextTimestampMs => _user.TimestampMs(Position);

    /// <summary>Time of the last applied entry.</summary>
    public long LastTimestampMs => _user.TimestampMs(Position - 1);

    /// <summary>A detector's state for this user (what the entity would persist).</summary>
    public ModelStateSlot? DetectorState { get; set; }

    /// <summary>Whether the last applied entry is a session end marker.</summary>
    public bool AtEndMarker => Position > 0 && _user.IsEndMarker(Position - 1);

    /// <summary>Applies the next entry: folds its event, or closes the open session for an end marker.</summary>
    public void Advance()
    {
        if (_user.EventAt(Position) is { } e) _state.Apply(e);
        else if (!_state.CloseSession())
            throw new InvalidOperationException($"user '{_user.UserId}': entry {Position} is an end marker but no session is open");
        Position++;
    }

    /// <summary>
    /// Applies the next <paramref name="events"/> entries and returns them as one scoring input, the way a user
    /// entity sends several new events at once: the window before them as context, then all of them as new
    /// events (so the window may be longer than its capacity), a feature row as of each, and
    /// <see cref="DetectorState"/> as the state.
    /// </summary>
    public ScoringInput AdvanceAsInput(int events)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(events, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(events, _user.Count - Position);
        int context = _state.Window.Count, f = FeatureSchema.Count;
        var window = new WindowEntry[context + events];
        _state.Window.CopyTo(window);
        var features = new float[events * f];
        for (int e = 0; e < events; e++)
        {
            Advance();
            window[context + e] = _state.Window.Last;
            _state.WriteFeatures(features.AsSpan(e * f, f));
        }
        return new ScoringInput(_user.UserId, window, events, features, DetectorState, _state.EntryCount);
    }

    /// <summary>Writes the feature vector as of the last applied entry (a marker's: the user's state at its session's end).</summary>
    public void WriteFeatures(Span<float> destination) => _state.WriteFeatures(destination);

    /// <summary>The user as of the last applied entry.</summary>
    public BehaviorSample Sample() =>
        new(_user.UserId, Position - 1, _state.Window.ToArray(), _state.Features(), _state.EntryCount, LastTimestampMs);
}
