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
/// Causal Transformer next-event detector with full-window scoring: every call re-reads the user's last
/// <see cref="TransformerHyperParameters.MaxPositions"/> events and scores each event's surprise (as the
/// LSTM does: -ln p(type) + gapWeight * -ln p(gap bucket), &lt;unk&gt; at least UnknownSurprise); the
/// user's score is the mean of the <see cref="TransformerHyperParameters.AggregateTop"/> largest
/// surprises in the window. Every new event is judged on its own window as of itself (the last
/// MaxPositions entries up to it), one row of a forward pass each (one pass per window length in the batch). Stateless; costs a
/// window of work per new event, so it suits batch re-scoring more than per-event streaming.
/// </summary>
public sealed class TransformerNextEventDetector : AnomalyDetector
{
    private readonly CausalTransformerNetwork _network;
    private readonly EventTokenizer _tokenizer;
    private readonly TransformerHyperParameters _parameters;

    private TransformerNextEventDetector(TransformerHyperParameters parameters, EventTokenizer tokenizer, CausalTransformerNetwork network, Device device)
        : base("transformer", device)
    {
        _parameters = parameters;
        _tokenizer = tokenizer;
        _network = network;
        _network.eval();
    }

    public static IDetectorKind<TransformerHyperParameters> Kind { get; } = new KindImpl();

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        // One row per new event: the last MaxPositions entries up to and including that event (its window as
        // of itself).
        int n = batch.Count, maxT = 0;
        var rowStart = ScoringOutputBuffer.RowOffsets(batch);
        int rows = rowStart[n];
        var rowInput = new int[rows];
        var offset = new int[rows];
        var length = new int[rows];
        for (int i = 0; i < n; i++)
        {
            var input = batch[i];
            for (int e = 0; e < input.NewEvents; e++)
            {
                int row = rowStart[i] + e, end = input.FirstNewIndex + e + 1;
                rowInput[row] = i;
                length[row] = Math.Min(end, _parameters.MaxPositions);
                offset[row] = end - length[row];
                maxT = Math.Max(maxT, length[row]);
            }
        }
        // Row r's results at [r * maxT + j] for its steps j < length[r].
        var types = new long[rows * maxT];
        var gaps = new long[rows * maxT];
        int k = Math.Min(_parameters.TopK, _tokenizer.Vocabulary.Count);
        var typeSurprise = new float[rows * maxT];
        var gapSurprise = new float[rows * maxT];
        var topProbability = new float[rows * maxT * k];
        var topTokens = new long[rows * maxT * k];
        // One forward pass per run of rows of equal length, padded to a multiple of BatchRows.Multiple rows: a row's
        // bits then depend on the row alone, not on how long the other rows of the batch are or how many there are.
        var byLength = Enumerable.Range(0, rows).OrderByDescending(r => length[r]).ToArray(); // stable: equal lengths keep row order
        for (int runStart = 0; runStart < rows;)
        {
            int t = length[byLength[runStart]], runEnd = runStart;
            while (runEnd < rows && length[byLength[runEnd]] == t) runEnd++;
            int m = runEnd - runStart, padded = BatchRows.Padded(m);
            var tokens = new long[padded * t * EventTokenizer.Fields];
            var runTypes = new long[padded * t];
            var runGaps = new long[padded * t];
            var pad = new EventToken(EventVocabulary.PadToken, 0, 0, 0);
            for (int q = 0; q < padded; q++)
            {
                int row = q < m ? byLength[runStart + q] : -1;
                for (int j = 0; j < t; j++)
                {
                    var fields = tokens.AsSpan((q * t + j) * EventTokenizer.Fields, EventTokenizer.Fields);
                    if (row < 0)
                    {
                        _tokenizer.WriteOffsetFields(pad, fields);
                        continue;
                    }
                    var input = batch[rowInput[row]];
                    var token = _tokenizer.Tokenize(input.Window.AsSpan(offset[row], t), j, input.WindowStartsAtUserStart && offset[row] == 0);
                    _tokenizer.WriteOffsetFields(token, fields);
                    runTypes[q * t + j] = types[row * maxT + j] = token.Type;
                    runGaps[q * t + j] = gaps[row * maxT + j] = token.Gap;
                }
            }

            float[] runTypeSurprise, runGapSurprise, runTopProbability;
            long[] runTopTokens;
            using (var scope = torch.NewDisposeScope())
            using (torch.inference_mode())
            {
                var (typeLogits, gapLogits) = _network.call(TensorTransfer.ToTensor(tokens, [padded, t, EventTokenizer.Fields], Device));
                var typeLog = nn.functional.log_softmax(typeLogits, 2);
                var gapLog = nn.functional.log_softmax(gapLogits, 2);
                runTypeSurprise = TensorTransfer.ToFloatArray(typeLog.gather(2, TensorTransfer.ToTensor(runTypes, [padded, t, 1], Device)).neg());
                runGapSurprise = TensorTransfer.ToFloatArray(gapLog.gather(2, TensorTransfer.ToTensor(runGaps, [padded, t, 1], Device)).neg());
                var (values, indices) = typeLog.topk(k, 2);
                runTopProbability = TensorTransfer.ToFloatArray(values.exp());
                runTopTokens = TensorTransfer.ToLongArray(indices);
            }
            for (int q = 0; q < m; q++)
            {
                int row = byLength[runStart + q];
                runTypeSurprise.AsSpan(q * t, t).CopyTo(typeSurprise.AsSpan(row * maxT, t));
                runGapSurprise.AsSpan(q * t, t).CopyTo(gapSurprise.AsSpan(row * maxT, t));
                runTopProbability.AsSpan(q * t * k, t * k).CopyTo(topProbability.AsSpan(row * maxT * k, t * k));
                runTopTokens.AsSpan(q * t * k, t * k).CopyTo(topTokens.AsSpan(row * maxT * k, t * k));
            }
            runStart = runEnd;
        }

        var buffer = new ScoringOutputBuffer(Name, rows);
        var ring = new float[maxT];
        Span<int> best = stackalloc int[_parameters.ExplainTop];
        long horizonMs = (long)(_parameters.SurpriseHorizonHours * 3_600_000);
        for (int row = 0; row < rows; row++)
        {
            var input = batch[rowInput[row]];
            int len = length[row];
            bool atStart = input.WindowStartsAtUserStart && offset[row] == 0;
            var view = input.Window.AsSpan(offset[row], len);
            var surprises = ring.AsSpan(0, len);
            for (int j = 0; j < len; j++)
            {
                int at = row * maxT + j;
                // As when this event was the only new one: the oldest entries of a view that does not start at the
                // user's first event lack context and are left out, except the event judged (the view's last).
                bool counted = (atStart || j >= _parameters.WarmupSkip || j == len - 1) && !SessionEndExplainer.Unscorable(_tokenizer, view[j]);
                surprises[j] = counted
                    ? SessionEndExplainer.Surprise(_tokenizer, typeSurprise[at], gapSurprise[at], _parameters.GapWeight, types[at], _parameters.UnknownSurprise)
                    : float.NaN;
            }
            double raw = SurpriseRing.TopMean(surprises, _parameters.AggregateTop, view, horizonMs);
            double score = Calibration.Map(raw);
            buffer.Set(row, raw, score);
            if (score < ExplainFrom) continue;

            int count = SurpriseRing.TopPositions(surprises, best);
            var unexpected = new UnexpectedEvent[count];
            for (int q = 0; q < count; q++)
            {
                int j = best[q], at = row * maxT + j;
                var expected = new ExpectedEvent[k];
                bool inside = false;
                for (int t = 0; t < k; t++)
                {
                    expected[t] = new ExpectedEvent(_tokenizer.Vocabulary.NameOf((int)topTokens[at * k + t]), topProbability[at * k + t]);
                    inside |= topTokens[at * k + t] == types[at];
                }
                var entry = view[j];
                unexpected[q] = new UnexpectedEvent(offset[row] + j, entry.TimestampMs, entry.Type, surprises[j], !inside, expected);
            }
            var explanation = Explanation.ForEvents(Name, raw, unexpected);
            if (Sessions.SessionRule.IsEndMarker(view[len - 1]))
            {
                int at = row * maxT + len - 1;
                var expected = new ExpectedEvent[k];
                for (int t = 0; t < k; t++) expected[t] = new ExpectedEvent(_tokenizer.Vocabulary.NameOf((int)topTokens[at * k + t]), topProbability[at * k + t]);
                explanation = explanation with
                {
                    SessionEnd = SessionEndExplainer.Reason(_tokenizer, view, len - 1, Math.Exp(-typeSurprise[at]), expected),
                };
            }
            buffer.Explain(row, explanation);
        }

        var outputs = new ScoringOutput[n];
        for (int i = 0; i < n; i++) outputs[i] = buffer.Output(rowStart[i], batch[i].NewEvents, null);
        return outputs;
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

    private static CausalTransformerNetwork CreateNetwork(TransformerHyperParameters p, EventTokenizer tokenizer) =>
        new(tokenizer.EmbeddingRows, p.FieldEmbedding, p.Heads, p.Layers, p.FeedForward, p.MaxPositions, tokenizer.Vocabulary.Count, TimeGapBuckets.Count);

    private sealed class KindImpl : IDetectorKind<TransformerHyperParameters>
    {
        public string Name => "transformer";

        public string Description => "causal Transformer next-event model over the window (full-window scoring)";

        public TransformerHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            p.Validate("streamdetect.models.transformer");
            var corpus = context.Sequences(p.MinTypeCount, p.AmountBuckets);
            var network = TorchSeeding.Build(context.Options.Seed, () => CreateNetwork(p, corpus.Tokenizer));
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
            var network = CreateNetwork(p, tokenizer);
            TorchWeights.Load(network, file, "weights");
            network.to(device);
            var detector = new TransformerNextEventDetector(p, tokenizer, network, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
