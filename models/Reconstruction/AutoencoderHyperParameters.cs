namespace StreamDetect.Models.Reconstruction;

/// <summary>Hyper-parameters of the feature autoencoder (HOCON <c>streamdetect.models.ae</c>).</summary>
public sealed record AutoencoderHyperParameters
{
    public int Hidden { get; init; } = 64;

    public int Bottleneck { get; init; } = 12;

    public int Epochs { get; init; } = 20;

    public double LearningRate { get; init; } = 0.002;

    public int BatchSize { get; init; } = 256;

    /// <summary>Training feature vectors sampled from the training users' events.</summary>
    public int MaxSamples { get; init; } = 100_000;

    public int Patience { get; init; } = 3;

    /// <summary>Scaled features are clipped to ±this before the network (bounds the loss of extreme rows).</summary>
    public float Clip { get; init; } = 10;

    public int ExplainTop { get; init; } = 3;
}
