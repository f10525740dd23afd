using System.Diagnostics;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Sequence;
using TorchSharp;

namespace StreamDetect.Models.Training;

/// <summary>
/// Everything a detector kind needs to train: the training and validation users, options, device,
/// progress sink, and caches shared by an ensemble's members (sampled feature matrices, tokenized
/// sequences) so that the data is replayed once.
/// </summary>
public sealed class TrainingContext
{
    private readonly Dictionary<(bool, int), FeatureMatrix> _features = [];
    private readonly Dictionary<(int, int, int), SequenceCorpus> _corpora = [];
    private readonly Stopwatch _clock;

    public TrainingContext(BehaviorDataset training, BehaviorDataset validation, TrainingOptions options, torch.Device device,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, Stopwatch? clock = null)
    {
        Training = training;
        Validation = validation;
        Options = options;
        Device = device;
        Progress = progress;
        Cancellation = cancellation;
        _clock = clock ?? Stopwatch.StartNew();
    }

    public BehaviorDataset Training { get; }

    public BehaviorDataset Validation { get; }

    public TrainingOptions Options { get; }

    public torch.Device Device { get; }

    public IProgress<TrainingProgress>? Progress { get; }

    public CancellationToken Cancellation { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The kind's own hyper-parameters (HOCON <c>streamdetect.models.&lt;kind&gt;</c>, else the kind's defaults).</summary>
    public T HyperParameters<T>(IDetectorKind<T> kind) where T : class => Options.Models.For(kind);

    /// <summary>The epoch count for a model: the run's override or the model's own.</summary>
    public int Epochs(int modelDefault) => Options.Epochs ?? modelDefault;

    /// <summary>A generator for one model's sampling decisions, derived from the run's seed and the model's name.</summary>
    public Random Random(string salt) => new(unchecked(Options.Seed * 1_000_003 + StreamDetect.Models.Features.StableHash.Of(salt)));

    public void Report(string model, string message) =>
        Progress?.Report(new TrainingProgress(model, 0, 0, double.NaN, null, Elapsed, message));

    public void Report(string model, int epoch, int epochs, double loss, double? validationLoss, string? note = null) =>
        Progress?.Report(new TrainingProgress(model, epoch, epochs, loss, validationLoss, Elapsed, note));

    /// <summary>Features of about <paramref name="maxRows"/> sampled training (or validation) events; cached.</summary>
    public FeatureMatrix Features(int maxRows, bool validation = false)
    {
        lock (_features)
        {
            if (!_features.TryGetValue((validation, maxRows), out var matrix))
            {
                Report("data", $"replaying {(validation ? "validation" : "training")} users for features (up to {maxRows} rows)");
                matrix = FeatureMatrix.Sample(validation ? Validation : Training, maxRows, Options.Seed + (validation ? 1 : 0));
                _features[(validation, maxRows)] = matrix;
            }
            return matrix;
        }
    }

    /// <summary>The training and validation users tokenized with a tokenizer learned from the training users; cached.</summary>
    /// <param name="reservedTypes">Reserved type slots of the vocabulary (see <see cref="Vocabulary.EventVocabulary"/>).</param>
    public SequenceCorpus Sequences(int minTypeCount, int amountBuckets, int reservedTypes = 0)
    {
        lock (_corpora)
        {
            if (!_corpora.TryGetValue((minTypeCount, amountBuckets, reservedTypes), out var corpus))
            {
                corpus = SequenceCorpus.Build(Training, Validation, minTypeCount, amountBuckets, reservedTypes);
                Report("data", $"tokenized {corpus.TrainingEvents} training events, vocabulary {corpus.Tokenizer.Vocabulary.Count} types ({reservedTypes} reserved)");
                _corpora[(minTypeCount, amountBuckets, reservedTypes)] = corpus;
            }
            return corpus;
        }
    }
}
