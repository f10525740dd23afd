using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Training;
using StreamDetect.Models.Tensors;
using StreamDetect.Models.Vocabulary;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// Causal Transformer next-event detector with incremental scoring: a new event costs one step of the network per
/// block phase (two), from the keys and values cached for the user (<see cref="TransformerKeyValueCache"/>), not a
/// re-run of its window.
/// <para>
/// The user's events are read in fixed blocks of <see cref="TransformerHyperParameters.MaxPositions"/> events (two
/// phases of blocks, offset by half a block), each as one training chunk is read: the begin token, then the block's
/// events. Every event is judged once, as of itself, in the block where it has the most context (its first
/// MaxPositions events from the user's first; every later one with MaxPositions/2 to MaxPositions-1 events of
/// context): surprise = -ln p(type) + gapWeight * -ln p(gap bucket), &lt;unk&gt; at least UnknownSurprise. The user's
/// score is the mean of the <see cref="TransformerHyperParameters.AggregateTop"/> largest surprises of the last
/// MaxPositions events within the surprise horizon, as for the recurrent models.
/// </para>
/// <para>
/// The per-user state (<see cref="ModelStateSlot.Values"/>) is the surprise ring (MaxPositions floats), then the
/// cache: per phase, the events of its current block seen, and the keys and values of every layer for the rows
/// computed so far (2 x layers x width floats a row). A missing, foreign or stale state is rebuilt by stepping
/// through the whole window; the rebuilt cache is exact when the window reaches back to the start of both current
/// blocks (a window of MaxPositions events before the first new one always does), and the ring then holds the
/// surprises of the window's events whose blocks start inside the window. <see cref="ScoreSequence"/> is the same
/// scoring as full forward passes over whole blocks; incremental scoring equals it up to float rounding.
/// </para>
/// </summary>
public sealed class TransformerNextEventDetector : AnomalyDetector
{
    private readonly CausalTransformerNetwork _network;
    private EventTokenizer _tokenizer;
    private readonly TransformerHyperParameters _parameters;
    private readonly TransformerCachedStep _step;
    private readonly NextEventDecision _decision;

    private TransformerNextEventDetector(TransformerHyperParameters parameters, EventTokenizer tokenizer, CausalTransformerNetwork network, Device device)
        : base("transformer", device)
    {
        _parameters = parameters;
        _tokenizer = tokenizer;
        _network = network;
        _network.eval();
        _step = new TransformerCachedStep(network, device);
        _decision = new NextEventDecision(parameters.Decision, Math.Min(parameters.TopK, tokenizer.Vocabulary.Count));
    }

    public static IDetectorKind<TransformerHyperParameters> Kind { get; } = new KindImpl();

    public override bool IsStateful => true;

    public NextEventDecision Decision => _decision;

    public override string DecisionRule => _decision.Describe();

    protected override double? DecisionRawScore => _decision.AlertRawScore;

    /// <summary>In surprise mode the raw score is the mean of the user's largest surprises (nats, -ln p): one more nat of
    /// surprise in one of them raises it by 1 / aggregate-top and is at most e times rarer. Top-k evidence is no log-probability.</summary>
    internal override double TailScaleFloor =>
        _decision.Mode == NextEventDecisionMode.Surprise ? 1.0 / _decision.Aggregate(_parameters.AggregateTop) : 0;

    public TransformerHyperParameters HyperParameters => _parameters;

    /// <summary>Surprises kept per user: the last max-positions events'.</summary>
    private int RingLength => _parameters.MaxPositions;

    private long HorizonMs => (long)(_parameters.SurpriseHorizonHours * 3_600_000);

    private TransformerKeyValueCache NewCache() => new(_parameters.MaxPositions, _network.Layers, _network.Width);

    /// <summary>Floats in the state of a user whose next event is its event <paramref name="next"/> (0 = first)
    /// after scoring from a full window: the ring plus the cached rows of both phases' current blocks.</summary>
    public int StateLengthAt(long next)
    {
        var cache = NewCache();
        for (long e = Math.Max(0, next - _parameters.MaxPositions); e < next; e++)
            for (int phase = 0; phase < TransformerKeyValueCache.Phases; phase++)
                if (cache.Enter(phase, e) >= 0) cache.Advance(phase);
        return RingLength + cache.StateLength(next);
    }

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        int n = batch.Count, length = _parameters.MaxPositions, ringLength = RingLength;
        string key = StateKey;
        var caches = new TransformerKeyValueCache[n];
        var rings = new float[n][];
        var first = new int[n];
        var tokens = new EventToken[n][];
        int waves = 0;
        for (int i = 0; i < n; i++)
        {
            var input = batch[i];
            var cache = caches[i] = NewCache();
            var ring = rings[i] = new float[ringLength];
            long next = input.EventCount - input.NewEvents;
            bool fresh = input.State is { } s && s.ModelKey == key && s.EventsFolded == next && s.Values.Length >= ringLength
                && cache.TryRead(s.Values, ringLength, next)
                && (input.FirstNewIndex >= 1 || (cache.Seen(0) == 0 && cache.Seen(1) == 0));
            if (fresh)
            {
                first[i] = input.FirstNewIndex;
                input.State!.Values.AsSpan(0, ringLength).CopyTo(ring);
            }
            else
            {
                // Rebuilt from the window: a fresh cache (TryRead may have filled part of it), blocks cut at the window's start.
                cache = caches[i] = NewCache();
                first[i] = 0;
                Array.Fill(ring, float.NaN);
                long start = input.EventCount - input.Window.Length;
                if (!input.WindowStartsAtUserStart)
                    for (int phase = 0; phase < TransformerKeyValueCache.Phases; phase++) cache.StartAt(phase, start);
            }
            tokens[i] = new EventToken[input.Window.Length];
            for (int j = Math.Max(0, first[i] - 1); j < input.Window.Length; j++) tokens[i][j] = _tokenizer.Tokenize(input.Window, j, input.WindowStartsAtUserStart);
            waves = Math.Max(waves, input.Window.Length - first[i]);
        }

        var rowStart = ScoringOutputBuffer.RowOffsets(batch);
        var buffer = new ScoringOutputBuffer(Name, rowStart[n]);
        int types = _tokenizer.Vocabulary.Count, gaps = TimeGapBuckets.Count, k = Math.Min(_parameters.TopK, types);
        var steps = new List<(TransformerKeyValueCache Cache, int Phase, EventToken Token)>(2 * n);
        var judgedStep = new int[n];   // the step whose prediction judges the user's event in this wave; -1: the begin token's; -2: none
        var judgedPosition = new int[n];
        var judgedTruncated = new bool[n];
        var typeLog = new float[2 * n * types];
        var gapLog = new float[2 * n * gaps];
        Span<int> top = stackalloc int[_parameters.ExplainTop];
        // Wave w steps every user's w-th event to score (events of one user depend on each other's rows, users do not).
        for (int wave = 0; wave < waves; wave++)
        {
            steps.Clear();
            for (int i = 0; i < n; i++)
            {
                var input = batch[i];
                int j = first[i] + wave;
                judgedStep[i] = -2;
                if (j >= input.Window.Length) continue;
                long index = input.EventCount - input.Window.Length + j;
                int judging = TransformerKeyValueCache.JudgingPhase(index, length);
                for (int phase = 0; phase < TransformerKeyValueCache.Phases; phase++)
                {
                    int position = caches[i].Enter(phase, index);
                    if (position < 0) continue;
                    if (phase == judging)
                    {
                        judgedStep[i] = position == 0 ? -1 : steps.Count;
                        judgedPosition[i] = position;
                        judgedTruncated[i] = caches[i].Truncated(phase);
                    }
                    // Position 0: predicted by the begin token alone (nothing to compute); else the row of the event before.
                    if (position == 0) caches[i].Advance(phase);
                    else steps.Add((caches[i], phase, tokens[i][j - 1]));
                }
            }
            _step.Run(steps, _tokenizer, typeLog, gapLog);

            // Per event: push its surprise, then score and explain the event as of itself.
            for (int i = 0; i < n; i++)
            {
                if (judgedStep[i] == -2) continue;
                var input = batch[i];
                int j = first[i] + wave, newFrom = input.FirstNewIndex;
                var typeRow = judgedStep[i] < 0 ? _step.BeginTypeLog : typeLog.AsSpan(judgedStep[i] * types, types);
                var gapRow = judgedStep[i] < 0 ? _step.BeginGapLog : gapLog.AsSpan(judgedStep[i] * gaps, gaps);
                var target = tokens[i][j];
                // An event judged in a block cut at the window's start lacks context: left out of the score, unless it is
                // new (it must be judged) or has warmup-skip (at least burn-in) events of context.
                bool counted = (!judgedTruncated[i] || j >= newFrom || judgedPosition[i] >= _parameters.RebuildSkip)
                    && !SessionEndExplainer.Unscorable(_tokenizer, input.Window[j]);
                var ring = rings[i].AsSpan();
                SurpriseRing.Push(ring, counted ? Evidence(typeRow, -gapRow[target.Gap], target.Type) : float.NaN);
                if (j < newFrom) continue;

                var asOf = input.Window.AsSpan(0, j + 1);
                double raw = SurpriseRing.TopMean(ring, _decision.Aggregate(_parameters.AggregateTop), asOf, HorizonMs);
                double score = Calibration.Map(raw);
                int row = rowStart[i] + j - newFrom;
                buffer.Set(row, raw, score);
                if (score < ExplainFromOrRule) continue;

                var unexpected = SurpriseRingExplainer.UnexpectedEvents(ring, top, asOf, typeRow, target.Type, k, _tokenizer.Vocabulary);
                var explanation = Explanation.ForEvents(Name, raw, unexpected) with { Decision = DecisionRule };
                if (Sessions.SessionRule.IsEndMarker(input.Window[j]))
                    explanation = explanation with
                    {
                        SessionEnd = SessionEndExplainer.Reason(_tokenizer, asOf, j, Math.Exp(typeRow[target.Type]), TopKPrediction.Of(typeRow, target.Type, k, _tokenizer.Vocabulary).Expected),
                    };
                buffer.Explain(row, explanation);
            }
        }

        var outputs = new ScoringOutput[n];
        for (int i = 0; i < n; i++)
        {
            var input = batch[i];
            var values = new float[ringLength + caches[i].StateLength(input.EventCount)];
            rings[i].CopyTo(values, 0);
            caches[i].WriteTo(values.AsSpan(ringLength), input.EventCount);
            outputs[i] = buffer.Output(rowStart[i], input.NewEvents, new ModelStateSlot(key, input.EventCount, values));
        }
        return outputs;
    }

    /// <summary>
    /// The reference for incremental scoring: one user's whole history from its first event scored with full
    /// forward passes of the network over whole blocks (every event judged in its block, as <see cref="Score"/>
    /// judges it). Returns every event's surprise and the user's raw score after each event.
    /// </summary>
    public (float[] Surprises, double[] Scores) ScoreSequence(IReadOnlyList<WindowEntry> entries)
    {
        var window = entries.ToArray();
        int count = window.Length, length = _parameters.MaxPositions, types = _tokenizer.Vocabulary.Count, gaps = TimeGapBuckets.Count;
        var targets = new EventToken[count];
        for (int j = 0; j < count; j++) targets[j] = _tokenizer.Tokenize(window, j, startsAtUserStart: true);
        var surprises = new float[count];
        for (int phase = 0; phase < TransformerKeyValueCache.Phases; phase++)
        {
            for (int start = phase * (length / 2); start < count; start += length)
            {
                int blockLength = Math.Min(length, count - start);
                var fields = new long[blockLength * EventTokenizer.Fields];
                for (int j = 0; j < blockLength; j++) _tokenizer.WriteOffsetFields(targets[start + j], fields.AsSpan(j * EventTokenizer.Fields, EventTokenizer.Fields));
                float[] typeLog, gapLog;
                using (var scope = torch.NewDisposeScope())
                using (torch.inference_mode())
                {
                    var (typeLogits, gapLogits) = _network.call(TensorTransfer.ToTensor(fields, [1, blockLength, EventTokenizer.Fields], Device));
                    typeLog = TensorTransfer.ToFloatArray(nn.functional.log_softmax(typeLogits, 2));
                    gapLog = TensorTransfer.ToFloatArray(nn.functional.log_softmax(gapLogits, 2));
                }
                for (int j = 0; j < blockLength; j++)
                {
                    int e = start + j;
                    if (TransformerKeyValueCache.JudgingPhase(e, length) != phase) continue;
                    surprises[e] = SessionEndExplainer.Unscorable(_tokenizer, window[e]) ? float.NaN
                        : Evidence(typeLog.AsSpan(j * types, types), -gapLog[j * gaps + targets[e].Gap], targets[e].Type);
                }
            }
        }
        var scores = new double[count];
        var ring = new float[RingLength];
        Array.Fill(ring, float.NaN);
        for (int j = 0; j < count; j++)
        {
            SurpriseRing.Push(ring, surprises[j]);
            scores[j] = SurpriseRing.TopMean(ring, _decision.Aggregate(_parameters.AggregateTop), window.AsSpan(0, j + 1), HorizonMs);
        }
        return (surprises, scores);
    }

    /// <summary>What the ring keeps for an event in the decision mode: its surprise, or its top-k rank evidence.</summary>
    private float Evidence(ReadOnlySpan<float> typeLogProbabilities, float gapSurprise, long typeToken) =>
        _decision.Evidence(EventSurprise(-typeLogProbabilities[(int)typeToken], gapSurprise, typeToken),
            _decision.Mode == NextEventDecisionMode.TopK ? NextEventDecision.RankOf(typeLogProbabilities, typeToken) : 0);

    private float EventSurprise(float typeSurprise, float gapSurprise, long typeToken) =>
        SessionEndExplainer.Surprise(_tokenizer, typeSurprise, gapSurprise, _parameters.GapWeight, typeToken, _parameters.UnknownSurprise);

    /// <summary>The network and what its training loss needs, for online fine-tuning of a copy (never of a scoring instance).</summary>
    internal NextEventTrainable Trainable => new(_network, x => _network.call(x), _tokenizer, _parameters.GapWeight, _parameters.MaxPositions, _parameters.BurnIn);

    /// <summary>For online fine-tuning of a private copy (never of a scoring instance): the vocabulary with types assigned
    /// to its reserved slots (the same size, so the layers fit; what the copy saves from then on).</summary>
    internal void AdoptVocabulary(EventVocabulary vocabulary)
    {
        _tokenizer = _tokenizer.WithVocabulary(vocabulary);
        _network.ActiveTypes = vocabulary.ActiveCount;
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        writer.Add("tokenizer", _tokenizer.WriteTo);
        writer.Add("weights", w => _network.save(w));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _network.Dispose();
    }

    /// <param name="leaveOutSlots">Without the reserved slots' rows (the network <see cref="TypeSlotLayers.Widen"/> starts from).</param>
    private static CausalTransformerNetwork CreateNetwork(TransformerHyperParameters p, EventTokenizer tokenizer, bool leaveOutSlots = false)
    {
        int slots = leaveOutSlots ? tokenizer.Vocabulary.ReservedSlots : 0;
        return new(tokenizer.EmbeddingRows - slots, p.FieldEmbedding, p.Heads, p.Layers, p.FeedForward, p.MaxPositions, tokenizer.Vocabulary.Count - slots, TimeGapBuckets.Count)
        {
            ActiveTypes = leaveOutSlots ? int.MaxValue : tokenizer.Vocabulary.ActiveCount,
        };
    }

    private sealed class KindImpl : IDetectorKind<TransformerHyperParameters>
    {
        public string Name => "transformer";

        public string Description => "causal Transformer next-event model, incremental (cached keys and values: one step per event)";

        public TransformerHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            p.Validate("streamdetect.models.transformer");
            var corpus = context.Sequences(p.MinTypeCount, p.AmountBuckets, p.ReservedTypes);
            var network = TorchSeeding.Build(context.Options.Seed,
                () => TypeSlotLayers.Widen(CreateNetwork(p, corpus.Tokenizer, leaveOutSlots: true), CreateNetwork(p, corpus.Tokenizer), corpus.Tokenizer.Vocabulary));
            network.to(context.Device);
            NextEventTraining.Fit(network, x => network.call(x), corpus,
                new NextEventTraining.Settings(Name, context.Epochs(p.Epochs), p.LearningRate, p.BatchSize, p.MaxPositions, p.BurnIn,
                    p.MaxTrainEvents, p.MaxValidationEvents, p.Patience, p.GapWeight),
                context);
            return new TransformerNextEventDetector(p with { Epochs = context.Epochs(p.Epochs) }, corpus.Tokenizer, network, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, Device device)
        {
            var p = file.ReadJson<TransformerHyperParameters>("hyperparameters");
            var tokenizer = file.Read("tokenizer", EventTokenizer.ReadFrom);
            p = p with { ReservedTypes = tokenizer.Vocabulary.ReservedSlots };
            var network = CreateNetwork(p, tokenizer);
            TorchWeights.Load(network, file, "weights");
            network.to(device);
            var detector = new TransformerNextEventDetector(p, tokenizer, network, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
