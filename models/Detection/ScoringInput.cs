using StreamDetect.Models.Features;

namespace StreamDetect.Models.Detection;

/// <summary>
/// One user to score, in the streaming shape: the user's recent events, how many of the newest are not
/// scored yet, the feature vector as of each of those, and this detector's per-user state from the last
/// time (which may be missing or stale: the detector then rebuilds it from the window).
/// <para>
/// Every new event gets its own verdict (<see cref="ScoringOutput.ScoreAt"/>), the one it would get if the
/// events were scored one at a time with the state passed along, provided the window holds, before each
/// new event, the context a one-at-a-time window would hold: the user's last W events before the first
/// new one (all of them for a user with fewer), where W is the entity's window size and is at least what
/// a detector reads back (the recurrent models' surprise-window, the Transformer's max-positions).
/// </para>
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="Window">The user's events, oldest first, newest last: up to W context events (<see cref="UserBehaviorState.Window"/>
/// before the first new event) followed by ALL the new events, so it may be longer than the entity's window.</param>
/// <param name="NewEvents">How many of the newest entries are unscored; 1..Window.Length.</param>
/// <param name="Features">The <see cref="FeatureSchema"/> vector as of each new event, row-major
/// <c>NewEvents x FeatureSchema.Count</c>, oldest first: row i is the vector right after the i-th new event
/// (<see cref="FeaturesAt"/>).</param>
/// <param name="State">This detector's slot from the previous scoring of this user, or null.</param>
/// <param name="EventCount">The user's total events so far (newest included).</param>
public sealed record ScoringInput(
    string UserId,
    WindowEntry[] Window,
    int NewEvents,
    float[] Features,
    ModelStateSlot? State,
    long EventCount)
{
    /// <summary>Throws <see cref="ArgumentException"/> (naming the user) when the input breaks its contract.</summary>
    public void Validate()
    {
        if (Window.Length == 0) throw new ArgumentException($"user '{UserId}': the window is empty");
        if (NewEvents < 1 || NewEvents > Window.Length)
            throw new ArgumentException($"user '{UserId}': NewEvents {NewEvents} is outside 1..{Window.Length} (the window length)");
        if (EventCount < Window.Length)
            throw new ArgumentException($"user '{UserId}': EventCount {EventCount} is smaller than the window ({Window.Length})");
        if (Features is null || Features.Length != (long)NewEvents * FeatureSchema.Count)
            throw new ArgumentException(
                $"user '{UserId}': {Features?.Length ?? 0} feature values, expected {NewEvents} new events x {FeatureSchema.Count} schema features = {(long)NewEvents * FeatureSchema.Count} (one row per new event)");
    }

    /// <summary>Window index of the first new event (<c>Window.Length - NewEvents</c>).</summary>
    public int FirstNewIndex => Window.Length - NewEvents;

    /// <summary>The feature vector as of the i-th new event (0 = oldest new event).</summary>
    public ReadOnlySpan<float> FeaturesAt(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, NewEvents);
        return Features.AsSpan(i * FeatureSchema.Count, FeatureSchema.Count);
    }

    /// <summary>Whether <see cref="Window"/> starts at the user's first event (nothing older was dropped).</summary>
    public bool WindowStartsAtUserStart => EventCount == Window.Length;
}
