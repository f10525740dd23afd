namespace StreamDetect.Models.Baselines;

/// <summary>Hyper-parameters of the robust z-score baseline (HOCON <c>streamdetect.models.zscore</c>).</summary>
public sealed record ZScoreHyperParameters
{
    /// <summary>The score is the mean of this many largest |z|. 10: one behaviour moves several correlated features
    /// (a login-fail streak moves five); averaging more than one group's worth rewards anomalies that move many.</summary>
    public int Top { get; init; } = 10;

    public int MaxSamples { get; init; } = 100_000;

    /// <summary>|z| is capped here so one absurd feature cannot drown the rest.</summary>
    public float Clip { get; init; } = 50;

    public int ExplainTop { get; init; } = 3;
}
