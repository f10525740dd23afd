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
/// LSTM / GRU next-event detector (DeepLog style) with incremental scoring.
/// <para>
/// Per event: surprise = -ln p(type | history) + gapWeight * -ln p(gap bucket | history), in nats (an
/// &lt;unk&gt; type counts at least <see cref="RecurrentHyperParameters.UnknownSurprise"/>); the event is
/// flagged when its type is outside the top-k predictions. Per user: the mean of the
/// <see cref="RecurrentHyperParameters.AggregateTop"/> largest surprises of the last
/// <see cref="RecurrentHyperParameters.SurpriseWindow"/> events.
/// </para>
/// <para>
/// The per-user state (<see cref="ModelStateSlot.Values"/>) is the recurrent state after the user's last
/// scored event (h for every layer, then c for an LSTM) followed by the surprise ring. Scoring a batch
/// costs one recurrent step per new event: each user's new events run from its own kept state, users
/// with the same number of new events in one call of the network (no re-run of the window). A missing,
/// foreign or stale state (key or event count mismatch) is rebuilt by running the whole window from the
/// zero state.
/// </para>
/// </summary>
public sealed class RecurrentNextEventDetector : AnomalyDetector
{
    private readonly RecurrentNextEventNetwork _network;
    private readonly EventTokenizer _tokenizer;
    private readonly RecurrentHyperParameters _parameters;

    private RecurrentNextEventDetector(string name, RecurrentHyperParameters parameters, EventTokenizer tokenizer, RecurrentNextEventNetwork network, Device device)
        : base(name, device)
    {
        _parameters = parameters;
        _tokenizer = tokenizer;
        _network = network;
        _network.eval();
    }

    public static IDetectorKind LstmKind { get; } = new Kind("lstm", RecurrentCell.Lstm);

    public static IDetectorKind GruKind { get; } = new Kind("gru", RecurrentCell.Gru);

    public override bool IsStateful => true;

    public RecurrentHyperParameters HyperParameters => _parameters;

    public EventTokenizer Tokenizer => _tokenizer;

    private int StateSize => _network.Layers * _network.Hidden;

    private long HorizonMs => (long)(_parameters.SurpriseHorizonHours * 3_600_000);

    /// <summary>Floats in a per-user state: recurrent state(s) and the surprise ring.</summary>
    public int StateLength => StateSize * (_network.HasCellState ? 2 : 1) + _parameters.SurpriseWindow;

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        int n = batch.Count;
        int layers = _network.Layers, hidden = _network.Hidden, stateSize = StateSize;
        bool hasCell = _network.HasCellState;
        string key = StateKey;

        // Plan: which window entries each user steps through.
        var fresh = new bool[n];
        var first = new int[n];
        var steps = new int[n];
        for (int i = 0; i < n; i++)
        {
            var input = batch[i];
            fresh[i] = input.State is { } s && s.ModelKey == key && s.EventsFolded == input.EventCount - input.NewEvents && s.Values.Length == StateLength;
            first[i] = fresh[i] ? input.Window.Length - input.NewEvents : 0;
            steps[i] = input.Window.Length - first[i];
        }
        var order = OrderBySteps(steps);
        int maxSteps = steps[order[0]];

        var tokens = new long[n * maxSteps * EventTokenizer.Fields];
        var typeTargets = new long[n * maxSteps];
        var gapTargets = new long[n * maxSteps];
        var h = new float[layers * n * hidden];
        var c = hasCell ? new float[h.Length] : null;
        for (int r = 0; r < n; r++)
        {
            int i = order[r];
            var input = batch[i];
            for (int j = 0; j < steps[i]; j++)
            {
                var token = _tokenizer.Tokenize(input.Window, first[i] + j, input.WindowStartsAtUserStart);
                _tokenizer.WriteOffsetFields(token, tokens.AsSpan((r * maxSteps + j) * EventTokenizer.Fields, EventTokenizer.Fields));
                typeTargets[r * maxSteps + j] = token.Type;
                gapTargets[r * maxSteps + j] = token.Gap;
            }
            if (fresh[i])
            {
                var values = input.State!.Values;
                for (int l = 0; l < layers; l++)
                {
                    values.AsSpan(l * hidden, hidden).CopyTo(h.AsSpan((l * n + r) * hidden, hidden));
                    if (c is not null) values.AsSpan(stateSize + l * hidden, hidden).CopyTo(c.AsSpan((l * n + r) * hidden, hidden));
                }
            }
        }

        int k = Math.Min(_parameters.TopK, _tokenizer.Vocabulary.Count);
        int types = _tokenizer.Vocabulary.Count, gaps = TimeGapBuckets.Count;
        // Log-probabilities of every type and gap bucket for every step, row-major [n, maxSteps, V or G].
        var typeLog = new float[n * maxSteps * types];
        var gapLog = new float[n * maxSteps * gaps];
        var finalH = new float[h.Length];
        var finalC = c is null ? null : new float[c.Length];
        using (var scope = torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            var tokensT = TensorTransfer.ToTensor(tokens, [n, maxSteps, EventTokenizer.Fields], Device);
            var hT = TensorTransfer.ToTensor(h, [layers, n, hidden], Device);
            var cT = c is null ? null : TensorTransfer.ToTensor(c, [layers, n, hidden], Device);
            var hParts = new List<Tensor>();
            var cParts = new List<Tensor>();
            // Users are sorted by step count; each run of equal counts is one call of the network from
            // the users' own states (usually a single run of 1 step: one recurrent step per event).
            for (int start = 0; start < n;)
            {
                int length = steps[order[start]], end = start;
                while (end < n && steps[order[end]] == length) end++;
                int m = end - start;
                var h0 = hT.narrow(1, start, m);
                var c0 = cT?.narrow(1, start, m);
                var x = tokensT.narrow(0, start, m).narrow(1, 0, length);
                var (output, hN, cN) = _network.call(x, h0, c0);
                hParts.Add(hN);
                if (cN is not null) cParts.Add(cN);
                // The prediction for step j comes from the top-layer state before it.
                var top0 = h0[layers - 1].unsqueeze(1);
                var before = length == 1 ? top0 : torch.cat([top0, output.narrow(1, 0, length - 1)], 1);
                var (typeLogits, gapLogits) = _network.Predict(before);
                var typeValues = nn.functional.log_softmax(typeLogits, 2);
                var gapValues = nn.functional.log_softmax(gapLogits, 2);
                if (length == maxSteps)
                {
                    // The group's rows are contiguous in the result arrays.
                    TensorTransfer.CopyTo(typeValues, typeLog.AsSpan(start * maxSteps * types, m * maxSteps * types));
                    TensorTransfer.CopyTo(gapValues, gapLog.AsSpan(start * maxSteps * gaps, m * maxSteps * gaps));
                }
                else
                {
                    var typeArray = TensorTransfer.ToFloatArray(typeValues);
                    var gapArray = TensorTransfer.ToFloatArray(gapValues);
                    for (int q = 0; q < m; q++)
                    {
                        Array.Copy(typeArray, q * length * types, typeLog, (start + q) * maxSteps * types, length * types);
                        Array.Copy(gapArray, q * length * gaps, gapLog, (start + q) * maxSteps * gaps, length * gaps);
                    }
                }
                start = end;
            }
            TensorTransfer.CopyTo(hParts.Count == 1 ? hParts[0] : torch.cat(hParts, 1), finalH);
            if (finalC is not null) TensorTransfer.CopyTo(cParts.Count == 1 ? cParts[0] : torch.cat(cParts, 1), finalC);
        }

        var outputs = new ScoringOutput[n];
        int ringLength = _parameters.SurpriseWindow;
        Span<int> top = stackalloc int[_parameters.ExplainTop];
        for (int r = 0; r < n; r++)
        {
            int i = order[r];
            var input = batch[i];
            var values = new float[StateLength];
            for (int l = 0; l < layers; l++)
            {
                finalH.AsSpan((l * n + r) * hidden, hidden).CopyTo(values.AsSpan(l * hidden, hidden));
                if (finalC is not null) finalC.AsSpan((l * n + r) * hidden, hidden).CopyTo(values.AsSpan(stateSize + l * hidden, hidden));
            }
            var ring = values.AsSpan(StateLength - ringLength, ringLength);
            if (fresh[i]) input.State!.Values.AsSpan(StateLength - ringLength, ringLength).CopyTo(ring);
            else ring.Fill(float.NaN);

            int newFrom = input.Window.Length - input.NewEvents;
            for (int j = 0; j < steps[i]; j++)
            {
                int windowIndex = first[i] + j, at = r * maxSteps + j;
                bool counted = fresh[i] || windowIndex >= newFrom || input.WindowStartsAtUserStart || windowIndex >= _parameters.WarmupSkip;
                SurpriseRing.Push(ring, counted ? EventSurprise(-typeLog[at * types + typeTargets[at]], -gapLog[at * gaps + gapTargets[at]], typeTargets[at]) : float.NaN);
            }
            double score = SurpriseRing.TopMean(ring, _parameters.AggregateTop, input.Window, HorizonMs);

            // Explanation: the most surprising events still in the window; top-k details for those scored now.
            int count = Explains(score) ? SurpriseRing.TopPositions(ring, top) : 0;
            var unexpected = new List<UnexpectedEvent>(count);
            for (int q = 0; q < count; q++)
            {
                int windowIndex = input.Window.Length - ringLength + top[q];
                if (windowIndex < 0) continue;
                var entry = input.Window[windowIndex];
                int j = windowIndex - first[i];
                bool? outside = null;
                IReadOnlyList<ExpectedEvent> expected = [];
                if (windowIndex >= newFrom && j >= 0 && j < steps[i])
                {
                    int at = r * maxSteps + j;
                    (outside, expected) = TopK(typeLog.AsSpan(at * types, types), typeTargets[at], k);
                }
                unexpected.Add(new UnexpectedEvent(windowIndex, entry.TimestampMs, entry.Type, ring[top[q]], outside, expected));
            }
            outputs[i] = Output(score, new ModelStateSlot(key, input.EventCount, values), Explanation.ForEvents(Name, score, unexpected));
        }
        return outputs;
    }

    /// <summary>User indices by descending step count, stable (a counting sort: counts are at most the window length).</summary>
    private static int[] OrderBySteps(int[] steps)
    {
        int max = 0;
        foreach (int s in steps) max = Math.Max(max, s);
        var order = new int[steps.Length];
        if (steps.All(s => s == max))
        {
            for (int i = 0; i < order.Length; i++) order[i] = i;
            return order;
        }
        var starts = new int[max + 2];
        foreach (int s in steps) starts[max - s + 1]++;
        for (int b = 1; b < starts.Length; b++) starts[b] += starts[b - 1];
        for (int i = 0; i < steps.Length; i++) order[starts[max - steps[i]]++] = i;
        return order;
    }

    /// <summary>The k most likely types of one prediction and whether the actual type is outside them.</summary>
    private (bool OutsideTopK, ExpectedEvent[] Expected) TopK(ReadOnlySpan<float> logProbabilities, long actual, int k)
    {
        Span<int> best = stackalloc int[k];
        int count = 0;
        for (int t = 0; t < logProbabilities.Length; t++)
        {
            float v = logProbabilities[t];
            int at = count < k ? count++ : k;
            if (at == k)
            {
                if (v <= logProbabilities[best[k - 1]]) continue;
                at = k - 1;
            }
            while (at > 0 && logProbabilities[best[at - 1]] < v)
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = t;
        }
        var expected = new ExpectedEvent[count];
        bool inside = false;
        for (int e = 0; e < count; e++)
        {
            expected[e] = new ExpectedEvent(_tokenizer.Vocabulary.NameOf(best[e]), Math.Exp(logProbabilities[best[e]]));
            inside |= best[e] == actual;
        }
        return (!inside, expected);
    }

    private float EventSurprise(float typeSurprise, float gapSurprise, long typeToken)
    {
        double type = typeToken == EventVocabulary.UnknownToken ? Math.Max(typeSurprise, _parameters.UnknownSurprise) : typeSurprise;
        return (float)(type + _parameters.GapWeight * gapSurprise);
    }

    /// <summary>
    /// Full-pass scoring of one user's whole history from the zero state (what training computes): every
    /// event's surprise, the user score after each event, and the most likely type the model predicted for
    /// each event before seeing it. Incremental scoring gives the same surprises and scores.
    /// </summary>
    public (float[] Surprises, double[] Scores, string[] Predicted) ScoreSequence(IReadOnlyList<WindowEntry> entries)
    {
        var window = entries.ToArray();
        var tokens = new long[window.Length * EventTokenizer.Fields];
        var targets = new EventToken[window.Length];
        for (int j = 0; j < window.Length; j++)
        {
            targets[j] = _tokenizer.Tokenize(window, j, startsAtUserStart: true);
            _tokenizer.WriteOffsetFields(targets[j], tokens.AsSpan(j * EventTokenizer.Fields, EventTokenizer.Fields));
        }
        float[] typeLog, gapLog;
        using (var scope = torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            var input = TensorTransfer.ToTensor(tokens, [1, window.Length, EventTokenizer.Fields], Device);
            var (typeLogits, gapLogits) = _network.PredictSequence(input);
            typeLog = TensorTransfer.ToFloatArray(nn.functional.log_softmax(typeLogits, 2));
            gapLog = TensorTransfer.ToFloatArray(nn.functional.log_softmax(gapLogits, 2));
        }
        int types = _tokenizer.Vocabulary.Count, gaps = TimeGapBuckets.Count;
        var surprises = new float[window.Length];
        var scores = new double[window.Length];
        var ring = new float[_parameters.SurpriseWindow];
        Array.Fill(ring, float.NaN);
        var predicted = new string[window.Length];
        for (int j = 0; j < window.Length; j++)
        {
            int best = 0;
            for (int t = 1; t < types; t++) if (typeLog[j * types + t] > typeLog[j * types + best]) best = t;
            predicted[j] = _tokenizer.Vocabulary.NameOf(best);
            surprises[j] = EventSurprise(-typeLog[j * types + targets[j].Type], -gapLog[j * gaps + targets[j].Gap], targets[j].Type);
            SurpriseRing.Push(ring, surprises[j]);
            scores[j] = SurpriseRing.TopMean(ring, _parameters.AggregateTop, window.AsSpan(Math.Max(0, j + 1 - ring.Length), Math.Min(j + 1, ring.Length)), HorizonMs);
        }
        return (surprises, scores, predicted);
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

    private static RecurrentNextEventNetwork CreateNetwork(RecurrentHyperParameters p, EventTokenizer tokenizer) =>
        new(p.Cell, tokenizer.EmbeddingRows, p.FieldEmbedding, p.Hidden, p.Layers, tokenizer.Vocabulary.Count, TimeGapBuckets.Count);

    private sealed class Kind(string name, RecurrentCell cell) : IDetectorKind
    {
        public string Name => name;

        public string Description => $"{(cell == RecurrentCell.Lstm ? "LSTM" : "GRU")} next-event model, incremental (one recurrent step per event)";

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = (cell == RecurrentCell.Lstm ? context.Options.Models.Lstm : context.Options.Models.Gru) with { Cell = cell };
            p.Validate($"streamdetect.models.{name}");
            var corpus = context.Sequences(p.MinTypeCount, p.AmountBuckets);
            var network = TorchSeeding.Build(context.Options.Seed, () => CreateNetwork(p, corpus.Tokenizer));
            network.to(context.Device);
            NextEventTraining.Fit(network, network.PredictSequence, corpus,
                new NextEventTraining.Settings(name, context.Epochs(p.Epochs), p.LearningRate, p.BatchSize, p.ChunkLength, p.BurnIn,
                    p.MaxTrainEvents, p.MaxValidationEvents, p.Patience, p.GapWeight),
                context);
            return new RecurrentNextEventDetector(name, p with { Epochs = context.Epochs(p.Epochs) }, corpus.Tokenizer, network, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, Device device)
        {
            var p = file.ReadJson<RecurrentHyperParameters>("hyperparameters");
            if (p.Cell != cell) throw new ModelFileException(file.Path, $"holds a {p.Cell} network, not {cell}");
            var tokenizer = file.Read("tokenizer", EventTokenizer.ReadFrom);
            var network = CreateNetwork(p, tokenizer);
            TorchWeights.Load(network, file, "weights");
            network.to(device);
            var detector = new RecurrentNextEventDetector(name, p, tokenizer, network, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
