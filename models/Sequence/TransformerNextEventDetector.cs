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
/// surprises in the window. Stateless; costs a window of work per scored user, so it suits batch
/// re-scoring more than per-event streaming.
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

    public static IDetectorKind Kind { get; } = new KindImpl();

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        int n = batch.Count, maxT = 0;
        var offset = new int[n];
        var length = new int[n];
        for (int i = 0; i < n; i++)
        {
            length[i] = Math.Min(batch[i].Window.Length, _parameters.MaxPositions);
            offset[i] = batch[i].Window.Length - length[i];
            maxT = Math.Max(maxT, length[i]);
        }
        var tokens = new long[n * maxT * EventTokenizer.Fields];
        var types = new long[n * maxT];
        var gaps = new long[n * maxT];
        for (int i = 0; i < n; i++)
        {
            var input = batch[i];
            var view = input.Window.AsSpan(offset[i], length[i]);
            bool atStart = input.WindowStartsAtUserStart && offset[i] == 0;
            for (int j = 0; j < maxT; j++)
            {
                var fields = tokens.AsSpan((i * maxT + j) * EventTokenizer.Fields, EventTokenizer.Fields);
                if (j >= length[i])
                {
                    _tokenizer.WriteOffsetFields(new EventToken(EventVocabulary.PadToken, 0, 0, 0), fields);
                    continue;
                }
                var token = _tokenizer.Tokenize(view, j, atStart);
                _tokenizer.WriteOffsetFields(token, fields);
                types[i * maxT + j] = token.Type;
                gaps[i * maxT + j] = token.Gap;
            }
        }

        int k = Math.Min(_parameters.TopK, _tokenizer.Vocabulary.Count);
        float[] typeSurprise, gapSurprise, topProbability;
        long[] topTokens;
        using (var scope = torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            var (typeLogits, gapLogits) = _network.call(TensorTransfer.ToTensor(tokens, [n, maxT, EventTokenizer.Fields], Device));
            var typeLog = nn.functional.log_softmax(typeLogits, 2);
            var gapLog = nn.functional.log_softmax(gapLogits, 2);
            typeSurprise = TensorTransfer.ToFloatArray(typeLog.gather(2, TensorTransfer.ToTensor(types, [n, maxT, 1], Device)).neg());
            gapSurprise = TensorTransfer.ToFloatArray(gapLog.gather(2, TensorTransfer.ToTensor(gaps, [n, maxT, 1], Device)).neg());
            var (values, indices) = typeLog.topk(k, 2);
            topProbability = TensorTransfer.ToFloatArray(values.exp());
            topTokens = TensorTransfer.ToLongArray(indices);
        }

        var outputs = new ScoringOutput[n];
        for (int i = 0; i < n; i++)
        {
            var input = batch[i];
            bool atStart = input.WindowStartsAtUserStart && offset[i] == 0;
            var ring = new float[input.Window.Length];
            for (int q = 0; q < offset[i]; q++) ring[q] = float.NaN;
            for (int j = 0; j < length[i]; j++)
            {
                int at = i * maxT + j;
                bool counted = atStart || j >= _parameters.WarmupSkip || offset[i] + j >= input.Window.Length - input.NewEvents;
                double type = types[at] == EventVocabulary.UnknownToken ? Math.Max(typeSurprise[at], _parameters.UnknownSurprise) : typeSurprise[at];
                ring[offset[i] + j] = counted ? (float)(type + _parameters.GapWeight * gapSurprise[at]) : float.NaN;
            }
            double score = SurpriseRing.TopMean(ring, _parameters.AggregateTop, input.Window, (long)(_parameters.SurpriseHorizonHours * 3_600_000));
            int row = i;
            var explanation = SurpriseRing.Explain(ring, Explains(score) ? _parameters.ExplainTop : 0, input.Window, windowIndex =>
            {
                int j = windowIndex - offset[row];
                if (j < 0) return (null, []);
                int at = (row * maxT + j) * k;
                var expected = new ExpectedEvent[k];
                bool inside = false;
                for (int q = 0; q < k; q++)
                {
                    expected[q] = new ExpectedEvent(_tokenizer.Vocabulary.NameOf((int)topTokens[at + q]), topProbability[at + q]);
                    inside |= topTokens[at + q] == types[row * maxT + j];
                }
                return (!inside, expected);
            });
            outputs[i] = Output(score, null, Explanation.ForEvents(Name, score, explanation));
        }
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

    private sealed class KindImpl : IDetectorKind
    {
        public string Name => "transformer";

        public string Description => "causal Transformer next-event model over the window (full-window scoring)";

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.Options.Models.Transformer;
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
