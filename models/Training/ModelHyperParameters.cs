using StreamDetect.Models.Adversarial;
using StreamDetect.Models.Baselines;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Neighbours;
using StreamDetect.Models.Reconstruction;
using StreamDetect.Models.Sequence;

namespace StreamDetect.Models.Training;

/// <summary>Hyper-parameters of every model (HOCON <c>streamdetect.models.&lt;name&gt;</c>).</summary>
public sealed record ModelHyperParameters
{
    public RecurrentHyperParameters Lstm { get; init; } = new() { Cell = RecurrentCell.Lstm };

    public RecurrentHyperParameters Gru { get; init; } = new() { Cell = RecurrentCell.Gru };

    public TransformerHyperParameters Transformer { get; init; } = new();

    public AutoencoderHyperParameters Autoencoder { get; init; } = new();

    public GanHyperParameters Gan { get; init; } = new();

    public KnnHyperParameters Knn { get; init; } = new();

    public ZScoreHyperParameters ZScore { get; init; } = new();

    public IsolationForestHyperParameters IsolationForest { get; init; } = new();

    public EnsembleHyperParameters Ensemble { get; init; } = new();
}
