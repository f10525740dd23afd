using System.Diagnostics;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Training;
using static TorchSharp.torch;

namespace StreamDetect.Models.Online;

/// <summary>
/// One round of online fine-tuning: from the champion (a sequence detector, or an ensemble whose sequence member is
/// trained) and the guard's samples, a NEW candidate detector. The champion is never touched: its model file content is
/// loaded into a private copy (own modules, own optimizer, on the champion's device), which trains for
/// <see cref="OnlineLearningOptions.StepsPerVersion"/> steps of <see cref="ScalarSafeAdam"/> on batches that mix the
/// samples with <see cref="OnlineLearningOptions.AnchorShare"/> of anchor users (the original training data), with
/// gradient clipping, an L2-SP pull toward the base weights and a projection onto
/// <see cref="OnlineLearningOptions.MaxDistance"/> around them. The trained copy is then saved and loaded once more (so
/// every cache built from the weights is rebuilt) and calibrated on the held-back samples' replay: its own thresholds,
/// a new <see cref="IAnomalyDetector.Version"/>. Samples of one user stay on one side of the held-back split.
/// </summary>
public sealed class SequenceFineTuner
{
    private readonly OnlineLearningOptions _options;
    private readonly TrainingOptions _training;

    /// <param name="training">Calibration options and scoring batch size for the candidate's calibration.</param>
    public SequenceFineTuner(OnlineLearningOptions options, TrainingOptions training)
    {
        options.Validate();
        _options = options;
        _training = training;
    }

    /// <param name="champion">The detector scoring now (read only: copied).</param>
    /// <param name="baseVersion">The originally trained version whose weights bound the distance; null: the champion's.</param>
    /// <param name="samples">The buffer's samples (traffic and false-alarm labels).</param>
    /// <param name="anchors">The anchor reservoir of the original training users.</param>
    public FineTuneResult FineTune(IAnomalyDetector champion, IAnomalyDetector? baseVersion, IReadOnlyList<OnlineSample> samples,
        AnchorReservoir anchors, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(_options.Seed);
        var (training, heldBack) = Split(samples, random);
        var copy = DetectorCopy.Of(champion);
        AnomalyDetector? candidate = null;
        try
        {
            var model = SequenceMember.Trainable(copy);
            var device = SequenceMember.Of(copy).Device;
            var parameters = model.Module.parameters().ToArray();
            var baseWeights = BaseWeights(baseVersion ?? copy, parameters, device);
            try
            {
                var users = training.Select(s => s.Events).Concat(anchors.Users).ToArray();
                var corpus = SequenceCorpus.WithTokenizer(model.Tokenizer, new BehaviorDataset(users, anchors.WindowCapacity),
                    new BehaviorDataset([], anchors.WindowCapacity));
                var chunks = SequenceCorpus.Chunk(corpus.Training, model.ChunkLength, model.BurnIn);
                var sampleChunks = chunks.Where(c => c.User < training.Count).ToArray();
                var anchorChunks = chunks.Where(c => c.User >= training.Count).ToArray();
                int anchorPerBatch = anchorChunks.Length == 0 ? 0 : (int)Math.Round(_options.BatchSize * _options.AnchorShare);
                int samplePerBatch = _options.BatchSize - anchorPerBatch;

                var losses = new List<double>(_options.StepsPerVersion);
                long trainedEvents = 0;
                double distance = 0;
                using var optimizer = new ScalarSafeAdam(parameters, _options.LearningRate);
                model.Module.train();
                for (int step = 0; step < _options.StepsPerVersion; step++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var batch = new SequenceChunk[samplePerBatch + anchorPerBatch];
                    for (int i = 0; i < samplePerBatch; i++) batch[i] = sampleChunks[random.Next(sampleChunks.Length)];
                    for (int i = 0; i < anchorPerBatch; i++) batch[samplePerBatch + i] = anchorChunks[random.Next(anchorChunks.Length)];
                    using var scope = NewDisposeScope();
                    optimizer.ZeroGrad();
                    var (loss, count) = NextEventLoss.Of(model, corpus, corpus.Training, batch, device);
                    if (count == 0) continue;
                    loss.backward();
                    optimizer.ClipGradients(_options.GradientClip);
                    optimizer.PullTowards(baseWeights, _options.DistancePenalty);
                    optimizer.Step();
                    distance = optimizer.ProjectOnto(baseWeights, _options.MaxDistance);
                    losses.Add(loss.item<float>());
                    trainedEvents += count;
                }
                model.Module.eval();
                int edge = Math.Max(1, losses.Count / 10);

                // A fresh load of the trained weights: the candidate shares nothing with the copy it was trained in.
                var bytes = copy.ToFile().ToBytes();
                candidate = DetectorCopy.FromBytes(bytes, $"fine-tuned from {champion.Name}@{champion.Version}", champion.Device);
                var heldBackData = new BehaviorDataset(heldBack.Select(s => s.Events).ToArray(), anchors.WindowCapacity);
                DetectorTrainer.Calibrate(candidate, heldBackData, _training, cancellation);
                return new FineTuneResult
                {
                    Candidate = candidate,
                    ParentVersion = champion.Version,
                    BaseVersion = (baseVersion ?? champion).Version,
                    Steps = (int)optimizer.Steps,
                    TrainingSamples = training.Count,
                    FalseAlarmLabels = training.Count(s => s.Source == OnlineSampleSource.FalseAlarmLabel),
                    AnchorUsers = anchors.Count,
                    TrainedEvents = trainedEvents,
                    HeldBack = heldBackData,
                    FirstEventTimeMs = samples.Min(s => s.EventTimeMs),
                    LastEventTimeMs = samples.Max(s => s.EventTimeMs),
                    FirstLoss = losses.Count == 0 ? double.NaN : losses.Take(edge).Average(),
                    LastLoss = losses.Count == 0 ? double.NaN : losses.TakeLast(edge).Average(),
                    Distance = distance,
                    Elapsed = clock.Elapsed,
                    Device = champion.Device.ToString(),
                };
            }
            finally
            {
                foreach (var weight in baseWeights) weight.Dispose();
            }
        }
        catch
        {
            candidate?.Dispose();
            throw;
        }
        finally
        {
            copy.Dispose();
        }
    }

    /// <summary>Samples by user, shuffled: <see cref="OnlineLearningOptions.HeldBackShare"/> of the users held back.</summary>
    private (List<OnlineSample> Training, List<OnlineSample> HeldBack) Split(IReadOnlyList<OnlineSample> samples, Random random)
    {
        var users = samples.Select(s => s.UserId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (users.Length < 4) throw new ArgumentException($"fine-tuning needs samples of at least 4 users ({users.Length} given)", nameof(samples));
        random.Shuffle(users);
        int held = Math.Clamp((int)Math.Round(users.Length * _options.HeldBackShare), 2, users.Length - 2);
        var heldUsers = users.Take(held).ToHashSet(StringComparer.Ordinal);
        var training = new List<OnlineSample>();
        var heldBack = new List<OnlineSample>();
        foreach (var sample in samples)
        {
            // False-alarm labels are learned, not held back: they were alerts, not the normal traffic calibration needs.
            if (heldUsers.Contains(sample.UserId) && sample.Source == OnlineSampleSource.Traffic) heldBack.Add(sample);
            else training.Add(sample);
        }
        if (heldBack.Count == 0) throw new ArgumentException("no traffic samples are left to hold back for calibration", nameof(samples));
        return (training, heldBack);
    }

    /// <summary>Detached copies of the base version's sequence weights, on the training device.</summary>
    private static Tensor[] BaseWeights(IAnomalyDetector baseVersion, TorchSharp.Modules.Parameter[] parameters, Device device)
    {
        var source = SequenceMember.Trainable(baseVersion).Module.parameters().ToArray();
        if (source.Length != parameters.Length || source.Zip(parameters).Any(p => !p.First.shape.SequenceEqual(p.Second.shape)))
            throw new ArgumentException($"the base version '{baseVersion.Version}' has another architecture or vocabulary than the champion", nameof(baseVersion));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // The copies outlive the scope; the intermediate views do not.
        return source.Select(p => p.detach().to(device).clone().DetachFromDisposeScope()).ToArray();
    }
}
