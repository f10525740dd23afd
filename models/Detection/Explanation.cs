namespace StreamDetect.Models.Detection;

/// <summary>
/// Why a detector scored a user as it did. Sequence models fill <see cref="UnexpectedEvents"/>,
/// feature models <see cref="Features"/>, an ensemble <see cref="Members"/> (and its members' reasons).
/// </summary>
/// <param name="Model">The detector's name (<c>lstm</c>, <c>ae</c>, ...).</param>
/// <param name="RawScore">The detector's own, uncalibrated score (surprise in nats, reconstruction error, ...).</param>
/// <param name="UnexpectedEvents">The least expected events of the window, most surprising first.</param>
/// <param name="Features">The features that contributed most, largest share first.</param>
/// <param name="Members">For an ensemble: every member's score and explanation.</param>
public sealed record Explanation(
    string Model,
    double RawScore,
    IReadOnlyList<UnexpectedEvent> UnexpectedEvents,
    IReadOnlyList<FeatureContribution> Features,
    IReadOnlyList<MemberScore> Members)
{
    /// <summary>For a verdict on a session end marker by a sequence model: why the end was (un)expected; else null.</summary>
    public SessionEndReason? SessionEnd { get; init; }

    public static Explanation ForEvents(string model, double rawScore, IReadOnlyList<UnexpectedEvent> events) =>
        new(model, rawScore, events, [], []);

    public static Explanation ForFeatures(string model, double rawScore, IReadOnlyList<FeatureContribution> features) =>
        new(model, rawScore, [], features, []);
}
