namespace StreamDetect.Models.Ensemble;

/// <summary>How an ensemble combines its members' calibrated scores.</summary>
public enum EnsembleCombination
{
    /// <summary>The largest member score: alerts when any member is confident.</summary>
    Max,

    /// <summary>The mean member score: needs agreement, smooths single-member noise.</summary>
    Mean,

    /// <summary>The share of members at or above the vote level, ties broken by the mean score.</summary>
    Vote,
}
