namespace StreamDetect.Models.Evaluation;

/// <summary>A user's verdict over the evaluated period.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Score">Max of the user's event scores in the period.</param>
/// <param name="Threshold">The alert threshold used.</param>
/// <param name="Label">1 iff any of the user's events in the period is labelled anomalous.</param>
/// <param name="Scenario">The user's scenario from the truth file ("normal" for normal users).</param>
public sealed record UserScore(string UserId, double Score, double Threshold, int Label, string Scenario)
{
    /// <summary>Where the user's highest score came from: the entry's type (<c>&lt;end&gt;</c> for a session end marker), its time,
    /// and each member's calibrated score of it (empty for a single model). Null when not recorded.</summary>
    public UserScoreSource? Source { get; init; }
}
