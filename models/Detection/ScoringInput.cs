using StreamDetect.Models.Features;

namespace StreamDetect.Models.Detection;

/// <summary>
/// One user to score, in the streaming shape: the user's window, how many of its newest entries have not
/// been scored yet, the feature vector as of the newest entry, and this detector's per-user state from
/// the last time (which may be missing or stale: the detector then rebuilds it from the window).
/// </summary>
/// <param name="UserId">The user.</param>
/// <param name="Window">The user's last events, oldest first, newest last (<see cref="UserBehaviorState.Window"/>).</param>
/// <param name="NewEvents">How many of the newest entries are unscored; 1..Window.Length.</param>
/// <param name="Features">The <see cref="FeatureSchema"/> vector as of the newest entry.</param>
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
    /// <summary>Throws <see cref="ArgumentException"/> when the input breaks its contract.</summary>
    public void Validate()
    {
        if (Window.Length == 0) throw new ArgumentException($"user '{UserId}': the window is empty");
        if (NewEvents < 1 || NewEvents > Window.Length)
            throw new ArgumentException($"user '{UserId}': NewEvents {NewEvents} is outside 1..{Window.Length} (the window length)");
        if (EventCount < Window.Length)
            throw new ArgumentException($"user '{UserId}': EventCount {EventCount} is smaller than the window ({Window.Length})");
        if (Features.Length != FeatureSchema.Count)
            throw new ArgumentException($"user '{UserId}': {Features.Length} features, the schema has {FeatureSchema.Count}");
    }

    /// <summary>Whether <see cref="Window"/> starts at the user's first event (nothing older was dropped).</summary>
    public bool WindowStartsAtUserStart => EventCount == Window.Length;
}
