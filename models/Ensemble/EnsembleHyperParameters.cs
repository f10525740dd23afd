namespace StreamDetect.Models.Ensemble;

/// <summary>Hyper-parameters of the ensemble (HOCON <c>streamdetect.models.ensemble</c>).</summary>
public sealed record EnsembleHyperParameters
{
    /// <summary>Member detectors by registry name.</summary>
    public IReadOnlyList<string> Members { get; init; } = ["gru", "zscore", "ae"];

    public EnsembleCombination Combine { get; init; } = EnsembleCombination.Max;

    /// <summary>Calibrated score at which a member votes "anomalous" (3 = 1 normal event in 1000).</summary>
    public double VoteLevel { get; init; } = 3;

    /// <summary>Score the members of a batch in parallel (one task per member) when there are several cores.</summary>
    public bool ParallelMembers { get; init; } = true;
}
