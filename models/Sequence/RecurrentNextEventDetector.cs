using System.Buffers;
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
/// <para>
/// Every new event gets its own verdict: the score as of that event (the ring right after its surprise,
/// the horizon measured from its time, as <see cref="ScoreSequence"/> computes it), and, when explained,
/// the most surprising events still in the window as of that event, with top-k details for the event
/// itself.
/// </para>
/// </summary>
public sealed class RecurrentNextEventDetector : AnomalyDetector
{
    private readonly RecurrentNextEventNetwork _network;
    private EventTokenizer _tokenizer;
    private readonly RecurrentHyperParameters _parameters;
    private readonly NextEventDecision _decision;

    private RecurrentNextEventDetector(string name, RecurrentHyperParameters parameters, EventTokenizer tokenizer, RecurrentNextEventNetwork network, Device device)
        : base(name, device)
    {
        _parameters = parameters;
        _tokenizer = tokenizer;
        _network = network;
        _network.eval();
        _decision = new NextEventDecision(parameters.Decision, Math.Min(parameters.TopK, tokenizer.Vocabulary.Count));
    }

    public static IDetectorKind<RecurrentHyperParameters> LstmKind { get; } = new Kind("lstm", RecurrentCell.Lstm);

    public static IDetectorKind<RecurrentHyperParameters> GruKind { get; } = new Kind("gru", RecurrentCell.Gru);

    public override bool IsStateful => true;

    public RecurrentHyperParameters HyperParameters => _parameters;

    public EventTokenizer Tokenizer => _tokenizer;

    public NextEventDecision Decision => _decision;

    public override string DecisionRule => _decision.Describe();

    protected override double? DecisionRawScore => _decision.AlertRawScore;

    /// <summary>In surprise mode the raw score is the mean of the user's largest surprises (nats, -ln p): one more nat of
    /// surprise in one of them raises it by 1 / aggregate-top and is at most e times rarer. Top-k evidence is no log-probability.</summary>
    internal override double TailScaleFloor =>
        _decision.Mode == NextEventDecisionMode.Surprise ? 1.0 / _decision.Aggregate(_parameters.AggregateTop) : 0;

    private int StateSize => _network.Layers * _network.Hidden;

    private long HorizonMs => (long)(_parameters.SurpriseHorizonHours * 3_600_000);

    /// <summary>Floats in a per-user state: recurrent state(s) and the surprise ring.</summary>
    public int StateLength => StateSize * (_network.HasCellState ? 2 : 1) + _parameters.SurpriseWindow;

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch) => Score(batch, null);

    internal override int MemberStateLength => StateLength;

    internal override ScoringOutput[] ScoreAsMember(IReadOnlyList<ScoringInput> batch, Ensemble.EnsembleMemberStates states)
    {
        ThrowIfDisposed();
        return Score(batch, states);
    }

    /// <summary>Kept state of input <paramref name="i"/> when it is this detector's and fresh (its own slot, or its part of an ensemble's: <paramref name="inEnsemble"/>).</summary>
    private bool TryKept(IReadOnlyList<ScoringInput> batch, Ensemble.EnsembleMemberStates? inEnsemble, int i, out ReadOnlySpan<float> kept)
    {
        if (inEnsemble is not null) return inEnsemble.TryKept(i, out kept);
        var input = batch[i];
        bool fresh = input.State is { } s && s.ModelKey == StateKey && s.EventsFolded == input.EventCount - input.NewEvents && s.Values.Length == StateLength;
        kept = fresh ? input.State!.Values : default;
        return fresh;
    }

    /// <summary>Scores a batch; with <paramref name="inEnsemble"/>, the states are read from and written into an ensemble's slots (no state arrays of its own).</summary>
    private ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch, Ensemble.EnsembleMemberStates? inEnsemble)
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
            fresh[i] = TryKept(batch, inEnsemble, i, out _);
            first[i] = fresh[i] ? input.FirstNewIndex : 0;
            steps[i] = input.Window.Length - first[i];
        }
        // Users by descending step count; each run of users with equal counts is one call of the network, its users
        // in slots [runSlot, runSlot + padded): the run's users, then padding slots (zero state, pad tokens, results
        // dropped) up to a multiple of BatchRows.Multiple, so a user's bits do not depend on how many users share its
        // run. Slot s has its steps at [slotStep[s], slotStep[s + 1]): ragged, so one user with 100 new events does
        // not pad a batch of single steps to 100.
        var order = OrderBySteps(steps);
        var slotOf = new int[n];
        var runs = new List<(int Start, int End, int Slot, int Padded)>();
        int slots = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end < n && steps[order[end]] == steps[order[start]]) end++;
            int padded = BatchRows.Padded(end - start);
            runs.Add((start, end, slots, padded));
            for (int r = start; r < end; r++) slotOf[r] = slots + r - start;
            slots = checked(slots + padded);
            start = end;
        }
        var slotStep = new int[slots + 1];
        foreach (var run in runs)
            for (int q = 0; q < run.Padded; q++) slotStep[run.Slot + q + 1] = checked(slotStep[run.Slot + q] + steps[order[run.Start]]);
        int totalSteps = slotStep[slots];

        // Pooled too (56 bytes per step otherwise): every token is written below (real steps and padding); the targets
        // are read only at real steps, which are written.
        var longs = ArrayPool<long>.Shared;
        var tokens = longs.Rent(totalSteps * EventTokenizer.Fields);
        var typeTargets = longs.Rent(totalSteps);
        var gapTargets = longs.Rent(totalSteps);
        // The batch-sized float arrays are pooled: at 1024 users each is 100-260 KB, on the large object heap when
        // allocated, whose budget then triggers full (gen 2) collections every few batches. Pooled arrays may be
        // longer than asked: only their first stateFloats / typeFloats / gapFloats values are used.
        int stateFloats = layers * slots * hidden, typeFloats = totalSteps * _tokenizer.Vocabulary.Count, gapFloats = totalSteps * TimeGapBuckets.Count;
        var pool = ArrayPool<float>.Shared;
        var h = pool.Rent(stateFloats);
        var c = hasCell ? pool.Rent(stateFloats) : null;
        var typeLog = pool.Rent(typeFloats);
        var gapLog = pool.Rent(gapFloats);
        var finalH = pool.Rent(stateFloats);
        var finalC = hasCell ? pool.Rent(stateFloats) : null;
        try
        {
            h.AsSpan(0, stateFloats).Clear();
            c?.AsSpan(0, stateFloats).Clear();
            var pad = new EventToken(EventVocabulary.PadToken, 0, 0, 0);
            foreach (var run in runs)
                for (int q = run.End - run.Start; q < run.Padded; q++)
                    for (int at = slotStep[run.Slot + q]; at < slotStep[run.Slot + q + 1]; at++)
                        _tokenizer.WriteOffsetFields(pad, tokens.AsSpan(at * EventTokenizer.Fields, EventTokenizer.Fields));
            for (int r = 0; r < n; r++)
            {
                int i = order[r], slot = slotOf[r];
                var input = batch[i];
                for (int j = 0; j < steps[i]; j++)
                {
                    int at = slotStep[slot] + j;
                    var token = _tokenizer.Tokenize(input.Window, first[i] + j, input.WindowStartsAtUserStart);
                    _tokenizer.WriteOffsetFields(token, tokens.AsSpan(at * EventTokenizer.Fields, EventTokenizer.Fields));
                    typeTargets[at] = token.Type;
                    gapTargets[at] = token.Gap;
                }
                if (fresh[i])
                {
                    TryKept(batch, inEnsemble, i, out var values);
                    for (int l = 0; l < layers; l++)
                    {
                        values.Slice(l * hidden, hidden).CopyTo(h.AsSpan((l * slots + slot) * hidden, hidden));
                        if (c is not null) values.Slice(stateSize + l * hidden, hidden).CopyTo(c.AsSpan((l * slots + slot) * hidden, hidden));
                    }
                }
            }

            int k = Math.Min(_parameters.TopK, _tokenizer.Vocabulary.Count);
            int types = _tokenizer.Vocabulary.Count, gaps = TimeGapBuckets.Count;
            // typeLog, gapLog: log-probabilities of every type and gap bucket for every step, in step order.
            using (var scope = torch.NewDisposeScope())
            using (torch.inference_mode())
            {
                var tokensT = TensorTransfer.ToTensor(tokens.AsSpan(0, totalSteps * EventTokenizer.Fields), [totalSteps, EventTokenizer.Fields], Device);
                // One lookup for every step of the batch; each run reads its rows.
                var embedded = _network.Embed(tokensT);
                var hT = TensorTransfer.ToTensor(h.AsSpan(0, stateFloats), [layers, slots, hidden], Device);
                var cT = c is null ? null : TensorTransfer.ToTensor(c.AsSpan(0, stateFloats), [layers, slots, hidden], Device);
                var hParts = new List<Tensor>();
                var cParts = new List<Tensor>();
                var typeParts = new List<Tensor>();
                var gapParts = new List<Tensor>();
                // Each run of users with equal step counts is one call of the network from the users' own states
                // (usually a single run of 1 step: one recurrent step per event).
                foreach (var run in runs)
                {
                    int length = steps[order[run.Start]], m = run.Padded;
                    var h0 = hT.narrow(1, run.Slot, m);
                    var c0 = cT?.narrow(1, run.Slot, m);
                    var x = embedded.narrow(0, slotStep[run.Slot], m * length).reshape(m, length, embedded.shape[1]);
                    var (output, hN, cN) = _network.Recur(x, h0, c0);
                    hParts.Add(hN);
                    if (cN is not null) cParts.Add(cN);
                    // The prediction for step j comes from the top-layer state before it.
                    var top0 = h0[layers - 1].unsqueeze(1);
                    var before = length == 1 ? top0 : torch.cat([top0, output.narrow(1, 0, length - 1)], 1);
                    var (typeLogits, gapLogits) = _network.Predict(before);
                    // The runs' steps are contiguous and in step order: their logits, one after another, are every step's.
                    typeParts.Add(typeLogits.reshape(m * length, types));
                    gapParts.Add(gapLogits.reshape(m * length, gaps));
                }
                // log_softmax works row by row: once over all runs' rows gives each row what it gives run by run.
                TensorTransfer.CopyTo(nn.functional.log_softmax(typeParts.Count == 1 ? typeParts[0] : torch.cat(typeParts, 0), 1), typeLog);
                TensorTransfer.CopyTo(nn.functional.log_softmax(gapParts.Count == 1 ? gapParts[0] : torch.cat(gapParts, 0), 1), gapLog);
                TensorTransfer.CopyTo(hParts.Count == 1 ? hParts[0] : torch.cat(hParts, 1), finalH);
                if (finalC is not null) TensorTransfer.CopyTo(cParts.Count == 1 ? cParts[0] : torch.cat(cParts, 1), finalC);
            }

            // Per event: push its surprise, then score and explain the event as of itself (ring and horizon as they
            // were right after it), as one-at-a-time scoring would.
            var rowStart = ScoringOutputBuffer.RowOffsets(batch);
            var buffer = new ScoringOutputBuffer(Name, rowStart[n]);
            var states = inEnsemble is null ? new ModelStateSlot[n] : null;
            int ringLength = _parameters.SurpriseWindow;
            Span<int> top = stackalloc int[_parameters.ExplainTop];
            for (int r = 0; r < n; r++)
            {
                int i = order[r], slot = slotOf[r];
                var input = batch[i];
                var own = inEnsemble is null ? new float[StateLength] : null;
                Span<float> values = own is not null ? own : inEnsemble!.Destination(i);
                for (int l = 0; l < layers; l++)
                {
                    finalH.AsSpan((l * slots + slot) * hidden, hidden).CopyTo(values.Slice(l * hidden, hidden));
                    if (finalC is not null) finalC.AsSpan((l * slots + slot) * hidden, hidden).CopyTo(values.Slice(stateSize + l * hidden, hidden));
                }
                var ring = values.Slice(StateLength - ringLength, ringLength);
                if (TryKept(batch, inEnsemble, i, out var kept)) kept.Slice(StateLength - ringLength, ringLength).CopyTo(ring);
                else ring.Fill(float.NaN);

                int newFrom = input.FirstNewIndex;
                for (int j = 0; j < steps[i]; j++)
                {
                    int windowIndex = first[i] + j, at = slotStep[slot] + j;
                    bool counted = fresh[i] || windowIndex >= newFrom || input.WindowStartsAtUserStart || windowIndex >= _parameters.RebuildSkip;
                    counted &= !SessionEndExplainer.Unscorable(_tokenizer, input.Window[windowIndex]);
                    SurpriseRing.Push(ring, counted ? Evidence(typeLog.AsSpan(at * types, types), -gapLog[at * gaps + gapTargets[at]], typeTargets[at]) : float.NaN);
                    if (windowIndex < newFrom) continue;

                    var asOf = input.Window.AsSpan(0, windowIndex + 1);
                    double raw = SurpriseRing.TopMean(ring, _decision.Aggregate(_parameters.AggregateTop), asOf, HorizonMs);
                    double score = Calibration.Map(raw);
                    int row = rowStart[i] + windowIndex - newFrom;
                    buffer.Set(row, raw, score);
                    if (score < ExplainFromOrRule) continue;

                    var unexpected = SurpriseRingExplainer.UnexpectedEvents(ring, top, asOf, typeLog.AsSpan(at * types, types), typeTargets[at], k, _tokenizer.Vocabulary);
                    var explanation = Explanation.ForEvents(Name, raw, unexpected) with { Decision = DecisionRule };
                    if (Sessions.SessionRule.IsEndMarker(asOf[windowIndex]))
                        explanation = explanation with
                        {
                            SessionEnd = SessionEndExplainer.Reason(_tokenizer, asOf, windowIndex, Math.Exp(typeLog[at * types + typeTargets[at]]),
                                TopKPrediction.Of(typeLog.AsSpan(at * types, types), typeTargets[at], k, _tokenizer.Vocabulary).Expected),
                        };
                    buffer.Explain(row, explanation);
                }
                if (states is not null) states[i] = new ModelStateSlot(key, input.EventCount, own!);
            }

            var outputs = new ScoringOutput[n];
            for (int i = 0; i < n; i++) outputs[i] = buffer.Output(rowStart[i], batch[i].NewEvents, states?[i]);
            return outputs;
        }
        finally
        {
            longs.Return(tokens);
            longs.Return(typeTargets);
            longs.Return(gapTargets);
            pool.Return(h);
            if (c is not null) pool.Return(c);
            pool.Return(typeLog);
            pool.Return(gapLog);
            pool.Return(finalH);
            if (finalC is not null) pool.Return(finalC);
        }
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

    /// <summary>What the ring keeps for an event in the decision mode: its surprise, or its top-k rank evidence.</summary>
    private float Evidence(ReadOnlySpan<float> typeLogProbabilities, float gapSurprise, long typeToken) =>
        _decision.Evidence(EventSurprise(-typeLogProbabilities[(int)typeToken], gapSurprise, typeToken),
            _decision.Mode == NextEventDecisionMode.TopK ? NextEventDecision.RankOf(typeLogProbabilities, typeToken) : 0);

    private float EventSurprise(float typeSurprise, float gapSurprise, long typeToken) =>
        SessionEndExplainer.Surprise(_tokenizer, typeSurprise, gapSurprise, _parameters.GapWeight, typeToken, _parameters.UnknownSurprise);

    /// <summary>
    /// Full-pass scoring of one user's whole history from the zero state (what training computes): every
    /// event's surprise, the user score after each event, and the most likely type the model predicted for
    /// each event before seeing it (in top-k mode the surprises are the events' rank evidence, see <see cref="NextEventDecision"/>).
    /// Incremental scoring gives the same surprises and scores.
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
            surprises[j] = SessionEndExplainer.Unscorable(_tokenizer, window[j]) ? float.NaN
                : Evidence(typeLog.AsSpan(j * types, types), -gapLog[j * gaps + targets[j].Gap], targets[j].Type);
            SurpriseRing.Push(ring, surprises[j]);
            scores[j] = SurpriseRing.TopMean(ring, _decision.Aggregate(_parameters.AggregateTop), window.AsSpan(Math.Max(0, j + 1 - ring.Length), Math.Min(j + 1, ring.Length)), HorizonMs);
        }
        return (surprises, scores, predicted);
    }

    /// <summary>The network and what its training loss needs, for online fine-tuning of a copy (never of a scoring instance).</summary>
    internal NextEventTrainable Trainable => new(_network, _network.PredictSequence, _tokenizer, _parameters.GapWeight, _parameters.ChunkLength, _parameters.BurnIn);

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
    private static RecurrentNextEventNetwork CreateNetwork(RecurrentHyperParameters p, EventTokenizer tokenizer, bool leaveOutSlots = false)
    {
        int slots = leaveOutSlots ? tokenizer.Vocabulary.ReservedSlots : 0;
        return new(p.Cell, tokenizer.EmbeddingRows - slots, p.FieldEmbedding, p.Hidden, p.Layers, tokenizer.Vocabulary.Count - slots, TimeGapBuckets.Count)
        {
            ActiveTypes = leaveOutSlots ? int.MaxValue : tokenizer.Vocabulary.ActiveCount,
        };
    }

    private sealed class Kind(string name, RecurrentCell cell) : IDetectorKind<RecurrentHyperParameters>
    {
        public string Name => name;

        public string Description => $"{(cell == RecurrentCell.Lstm ? "LSTM" : "GRU")} next-event model, incremental (one recurrent step per event)";

        /// <summary>lstm and gru share the record; each kind's defaults (and training) fix its cell.</summary>
        public RecurrentHyperParameters DefaultHyperParameters { get; } = new() { Cell = cell };

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this) with { Cell = cell };
            p.Validate($"streamdetect.models.{name}");
            var corpus = context.Sequences(p.MinTypeCount, p.AmountBuckets, p.ReservedTypes);
            var network = TorchSeeding.Build(context.Options.Seed,
                () => TypeSlotLayers.Widen(CreateNetwork(p, corpus.Tokenizer, leaveOutSlots: true), CreateNetwork(p, corpus.Tokenizer), corpus.Tokenizer.Vocabulary));
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
            p = p with { ReservedTypes = tokenizer.Vocabulary.ReservedSlots };
            var network = CreateNetwork(p, tokenizer);
            TorchWeights.Load(network, file, "weights");
            network.to(device);
            var detector = new RecurrentNextEventDetector(name, p, tokenizer, network, device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
