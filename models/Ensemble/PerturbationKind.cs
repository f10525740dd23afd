namespace StreamDetect.Models.Ensemble;

/// <summary>How <see cref="SyntheticPerturbations"/> changes a normal validation user into a synthetic anomaly.</summary>
internal enum PerturbationKind
{
    Shuffle,
    Drop,
    Insert,
    Burst,
    Amount,
}
