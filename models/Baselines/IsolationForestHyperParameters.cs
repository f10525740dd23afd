namespace StreamDetect.Models.Baselines;

/// <summary>Hyper-parameters of the isolation forest (HOCON <c>streamdetect.models.iforest</c>).</summary>
public sealed record IsolationForestHyperParameters
{
    public int Trees { get; init; } = 100;

    /// <summary>Rows per tree (ψ in Liu et al.); trees grow to depth ceil(log2 ψ).</summary>
    public int SampleSize { get; init; } = 256;

    public int MaxSamples { get; init; } = 100_000;

    public int ExplainTop { get; init; } = 3;
}
