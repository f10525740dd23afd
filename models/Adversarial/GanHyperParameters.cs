namespace StreamDetect.Models.Adversarial;

/// <summary>Hyper-parameters of the GAN critic detector (HOCON <c>streamdetect.models.gan</c>).</summary>
public sealed record GanHyperParameters
{
    public int Latent { get; init; } = 16;

    public int Hidden { get; init; } = 128;

    public int Epochs { get; init; } = 20;

    public double LearningRate { get; init; } = 0.001;

    public int BatchSize { get; init; } = 256;

    public int MaxSamples { get; init; } = 100_000;

    /// <summary>
    /// Share of each critic batch's negatives that are normal windows pushed off the data manifold
    /// (Gaussian noise of random scale on the scaled features) rather than generator samples: a pure GAN
    /// critic becomes uninformative as the generator improves; these keep its score meaningful away
    /// from normal traffic.
    /// </summary>
    public double OffManifoldShare { get; init; } = 0.5;

    /// <summary>Largest noise scale (in scaled-feature units) of the off-manifold negatives.</summary>
    public double NoiseScale { get; init; } = 3.0;

    public float Clip { get; init; } = 10;

    public int ExplainTop { get; init; } = 3;
}
