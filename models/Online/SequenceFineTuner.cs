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
/// every cache built from the weights is rebuilt) and calibrated on the replay of the held-back samples and (with
/// <see cref="OnlineLearningOptions.CalibrateWithAnchors"/>) the anchor users: its own thresholds,
/// a new <see cref="IAnomalyDetector.Version"/>. Samples of one user stay on one side of the held-back split. With
/// <see cref="OnlineLearningOptions.RefitFeatureMembers"/>, an ensemble's z-score member is refitted on the training
/// samples and the anchors before the save (<see cref="FeatureMemberRefit"/>).
/// <para>
/// New event types: a type the champion maps to &lt;unk&gt; that the samples hold often enough, from enough users, is
/// assigned a free reserved slot of the vocabulary first (<see cref="VocabularyGrowth"/>); the candidate's vocabulary
/// (and so its model file and version) carries the assignment. The slot's rows start from the &lt;unk&gt; input
/// embedding and the learned types' mean output row, and the distance bound leaves slots assigned since the base
/// version out (the base never knew those types). With no slot free, a type stays &lt;unk&gt; and the result lists it.
/// </para>
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
            // New event types (unknown to the champion, seen often enough from enough users) take free reserved slots.
            var championVocabulary = SequenceMember.Trainable(copy).Tokenizer.Vocabulary;
            var growth = VocabularyGrowth.Plan(championVocabulary, samples, _options.NewTypeMinCount, _options.NewTypeMinUsers);
            if (growth.Assigned.Count > 0) SequenceMember.AdoptVocabulary(copy, championVocabulary.WithAssigned(growth.Assigned));
            var model = SequenceMember.Trainable(copy);
            var device = SequenceMember.Of(copy).Device;
            var named = model.Module.named_parameters().ToArray();
            var parameters = named.Select(p => p.parameter).ToArray();
            var typeIndexed = NextEventTrainable.TypeTokenParameters
                .Select(name => Array.FindIndex(named, p => p.name == name) is var i and >= 0 ? i
                    : throw new InvalidOperationException($"the sequence network has no parameter '{name}'"))
                .ToArray();
            InitialiseSlots(parameters, typeIndexed, championVocabulary, model.Tokenizer.Vocabulary);
            var baseVocabulary = SequenceMember.Trainable(baseVersion ?? champion).Tokenizer.Vocabulary;
            var baseWeights = BaseWeights(baseVersion ?? copy, parameters, device);
            using var unbounded = UnboundedRows(baseVocabulary, model.Tokenizer.Vocabulary, device);
            try
            {
                FollowRows(baseWeights, parameters, typeIndexed, unbounded);
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
                    FollowRows(baseWeights, parameters, typeIndexed, unbounded);
                    distance = optimizer.ProjectOnto(baseWeights, _options.MaxDistance);
                    losses.Add(loss.item<float>());
                    trainedEvents += count;
                }
                model.Module.eval();
                var refitted = _options.RefitFeatureMembers ? FeatureMemberRefit.Apply(copy, training, anchors, _options.Seed, _options.RefitAutoencoderSteps) : [];
                int edge = Math.Max(1, losses.Count / 10);

                // A fresh load of the trained weights: the candidate shares nothing with the copy it was trained in.
                var bytes = copy.ToFile().ToBytes();
                candidate = DetectorCopy.FromBytes(bytes, $"fine-tuned from {champion.Name}@{champion.Version}", champion.Device);
                var heldBackData = new BehaviorDataset(heldBack.Select(s => s.Events).ToArray(), anchors.WindowCapacity);
                // Calibrated on the held-back recent samples and (calibrate-with-anchors) the anchor users: a few hundred
                // recent windows alone set a threshold that alerted no normal user and lost recall (README, online learning).
                var calibration = _options.CalibrateWithAnchors && anchors.Count > 0
                    ? new BehaviorDataset([.. heldBackData.Users, .. anchors.Users], anchors.WindowCapacity)
                    : heldBackData;
                DetectorTrainer.Calibrate(candidate, calibration, _training, cancellation);
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
                    Vocabulary = growth,
                    RefittedMembers = refitted,
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

    /// <summary>
    /// The first weights of the slots this round assigned: the input embedding row of <c>&lt;unk&gt;</c> (what the champion
    /// read for the type until now, so histories holding it start where the champion was), and for the type head the
    /// mean row and bias of the learned types (the type starts as a middling prediction, not as the impossible
    /// <c>&lt;unk&gt;</c> at the bottom of every distribution, which the bounded learning rate of one round could not lift).
    /// </summary>
    private static void InitialiseSlots(TorchSharp.Modules.Parameter[] parameters, int[] typeIndexed, Vocabulary.EventVocabulary before, Vocabulary.EventVocabulary after)
    {
        var fresh = Enumerable.Range(after.FirstSlotToken, after.ReservedSlots)
            .Where(t => before.NameOf(t) == Vocabulary.EventVocabulary.FreeSlotName && after.NameOf(t) != Vocabulary.EventVocabulary.FreeSlotName)
            .ToArray();
        if (fresh.Length == 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var device = parameters[typeIndexed[0]].device;
        var rows = tensor(fresh.Select(t => (long)t).ToArray(), device: device);
        var embedding = parameters[typeIndexed[0]];
        embedding.index_copy_(0, rows, embedding.narrow(0, Vocabulary.EventVocabulary.UnknownToken, 1).expand(fresh.Length, embedding.shape[1]).clone());
        int learned = before.FirstSlotToken - 2;
        foreach (int i in typeIndexed.Skip(1))
        {
            var head = parameters[i];
            var mean = head.narrow(0, 2, learned).mean([0L], keepdim: true);
            var shape = head.shape.ToArray();
            shape[0] = fresh.Length;
            head.index_copy_(0, rows, mean.expand(shape).contiguous());
        }
    }

    /// <summary>
    /// The type tokens whose rows the distance bound leaves free: slots assigned since the base version (free in its
    /// vocabulary). Their base weights are untrained rows of a type the base never knew, so a pull toward them, or a
    /// projection counting them, would only stop the new type from being learned; they are bounded by the learning rate,
    /// the gradient clip and the steps of a round instead. Null when there are none.
    /// </summary>
    private static Tensor? UnboundedRows(Vocabulary.EventVocabulary baseVocabulary, Vocabulary.EventVocabulary vocabulary, Device device)
    {
        if (baseVocabulary.Count != vocabulary.Count || baseVocabulary.FirstSlotToken != vocabulary.FirstSlotToken)
            throw new ArgumentException($"the base version's vocabulary ({baseVocabulary.Count} tokens) does not fit the champion's ({vocabulary.Count})");
        var rows = new List<long>();
        for (int t = vocabulary.FirstSlotToken; t < vocabulary.Count; t++)
        {
            string name = vocabulary.NameOf(t), baseName = baseVocabulary.NameOf(t);
            if (baseName == name) continue;
            if (baseName != Vocabulary.EventVocabulary.FreeSlotName)
                throw new ArgumentException($"slot {t} holds '{name}' in the champion and '{baseName}' in the base version");
            rows.Add(t);
        }
        return rows.Count == 0 ? null : tensor(rows.ToArray(), device: device);
    }

    /// <summary>Sets the unbounded rows of the base weights to the current weights: no pull, no distance, no projection there.</summary>
    private static void FollowRows(Tensor[] baseWeights, TorchSharp.Modules.Parameter[] parameters, int[] typeIndexed, Tensor? rows)
    {
        if (rows is null) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (int i in typeIndexed) baseWeights[i].index_copy_(0, rows, parameters[i].detach().index_select(0, rows));
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
