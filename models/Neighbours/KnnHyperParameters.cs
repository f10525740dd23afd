namespace StreamDetect.Models.Neighbours;

/// <summary>Hyper-parameters of the k-nearest-neighbour detector (HOCON <c>streamdetect.models.knn</c>).</summary>
public sealed record KnnHyperParameters
{
    /// <summary>Normal feature vectors kept (uniformly sampled from the training events).</summary>
    public int Reservoir { get; init; } = 4096;

    public int K { get; init; } = 5;

    public int MaxSamples { get; init; } = 100_000;

    public float Clip { get; init; } = 10;

    public int ExplainTop { get; init; } = 3;
}
