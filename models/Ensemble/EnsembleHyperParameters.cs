namespace StreamDetect.Models.Ensemble;

/// <summary>Hyper-parameters of the ensemble (HOCON <c>streamdetect.models.ensemble</c>).</summary>
public sealed record EnsembleHyperParameters
{
    /// <summary>Member detectors by registry name.</summary>
    public IReadOnlyList<string> Members { get; init; } = ["gru", "zscore", "ae"];

    /// <summary>Detectors trained beside the members that join only when the selection finds them better than every
    /// kept member at telling perturbed validation users from normal ones (<see cref="MemberSelection"/>); not
    /// trained when <see cref="SelectMembers"/> is off.</summary>
    public IReadOnlyList<string> Challengers { get; init; } = ["novelty"];

    public EnsembleCombination Combine { get; init; } = EnsembleCombination.Max;

    /// <summary>Calibrated score at which a member votes "anomalous" (3 = 1 normal event in 1000).</summary>
    public double VoteLevel { get; init; } = 3;

    /// <summary>Score the members of a batch in parallel (one task per member) when there are several cores.</summary>
    public bool ParallelMembers { get; init; } = true;

    /// <summary>Choose the members from validation data after training them (<see cref="MemberSelection"/>): drop those
    /// without spread, those that lean on the time of day, and those that barely tell perturbed users from normal ones.</summary>
    public bool SelectMembers { get; init; } = true;

    /// <summary>Normal validation users sampled for the selection (each also gets a perturbed copy).</summary>
    public int SelectionUsers { get; init; } = 300;

    /// <summary>A member is dropped when its ROC-AUC of perturbed copies against normal validation users is below 0.5 + this.</summary>
    public double SelectionMinSignal { get; init; } = 0.05;

    /// <summary>A member is dropped when its ROC-AUC of 12 h-shifted copies against the normal users is above 0.5 + this.</summary>
    public double SelectionTimeShiftTolerance { get; init; } = 0.1;

    /// <summary>A challenger joins when its ROC-AUC of perturbed against normal users beats every kept member's by more than this.</summary>
    public double SelectionChallengerMargin { get; init; } = 0.02;
}
