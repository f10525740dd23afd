using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Ensemble;

/// <summary>
/// Combines members' calibrated scores (<see cref="EnsembleCombination"/>: max, mean or vote). Each
/// member is calibrated on the same normal validation replay (so a 3 means "1 normal event in 1000" for
/// every member), then the combination is calibrated again and the alert threshold fitted.
/// Every new event gets its own combination of the members' verdicts on that event; its explanation lists
/// every member's (see <see cref="ScoringOutput.ExplanationAt"/>, built on demand from
/// <see cref="ScoringOutput.Members"/>). The ensemble's per-user state packs its stateful members' states:
/// a length per member, then their values, under the ensemble's own key. When every stateful member keeps a state of
/// one length for every user (<see cref="AnomalyDetector.MemberStateLength"/>), members read and write their parts of
/// the slots in place (<see cref="EnsembleMemberStates"/>), with the same values as slicing and packing gave.
/// </summary>
public sealed class EnsembleDetector : AnomalyDetector
{
    private readonly EnsembleHyperParameters _parameters;
    private readonly AnomalyDetector[] _members;
    private readonly bool _stateful;

    // Each member's state length when every stateful member can keep its states inside the ensemble's slots (0 for a
    // stateless member); null when one cannot (its states are then sliced out and packed in again, batch by batch).
    private readonly int[]? _inPlaceLengths;

    private EnsembleDetector(EnsembleHyperParameters parameters, AnomalyDetector[] members, torch.Device device)
        : base("ensemble", device)
    {
        _parameters = parameters;
        _members = members;
        _stateful = members.Any(m => m.IsStateful);
        if (_stateful && members.All(m => !m.IsStateful || m.MemberStateLength > 0))
            _inPlaceLengths = [.. members.Select(m => m.IsStateful ? m.MemberStateLength : 0)];
    }

    public static IDetectorKind<EnsembleHyperParameters> Kind { get; } = new KindImpl();

    public IReadOnlyList<IAnomalyDetector> Members => _members;

    public EnsembleCombination Combination => _parameters.Combine;

    public override string DecisionRule => $"calibrated {_parameters.Combine.ToString().ToLowerInvariant()} of the members' scores at the wanted alert rate";

    public override bool IsStateful => _stateful;

    public override double ExplainFrom
    {
        get => base.ExplainFrom;
        set
        {
            base.ExplainFrom = value;
            foreach (var member in _members ?? []) member.ExplainFrom = value;
        }
    }

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        int n = batch.Count, members = _members.Length;
        string key = StateKey;
        var memberOutputs = new ScoringOutput[members][];
        var packed = _inPlaceLengths is null ? null : NewPackedStates(batch);
        void ScoreMember(int m)
        {
            var member = _members[m];
            if (!member.IsStateful)
            {
                memberOutputs[m] = member.ScoreBatch(batch); // stateless members ignore the state slot
                return;
            }
            if (packed is not null)
            {
                // In place: the member reads its part of each kept slot and writes its part of each new one.
                memberOutputs[m] = member.ScoreAsMember(batch, new EnsembleMemberStates(batch, key, m, members, packed, PackedOffset(m), _inPlaceLengths![m]));
                return;
            }
            var inputs = new ScoringInput[n];
            for (int i = 0; i < n; i++) inputs[i] = batch[i] with { State = MemberState(batch[i].State, key, m) };
            memberOutputs[m] = member.ScoreBatch(inputs);
        }
        // Members are independent: on a multi-core machine the recurrent member's tensor work and the
        // feature members' C# work run side by side.
        if (_parameters.ParallelMembers && members > 1 && Environment.ProcessorCount > 1)
        {
            // torch's thread settings are per thread (OpenMP's and MKL's thread counts): a pool thread that never
            // had them set runs a member's matrix products with as many threads as there are cores, which gives
            // other bits than the caller's setting, and which member lands on which thread varies from batch to
            // batch. Each member runs with the caller's setting, wherever it runs.
            int threads = torch.get_num_threads();
            int caller = Environment.CurrentManagedThreadId;
            Parallel.For(0, members, m =>
            {
                if (Environment.CurrentManagedThreadId != caller && torch.get_num_threads() != threads) torch.set_num_threads(threads);
                ScoreMember(m);
            });
        }
        else
            for (int m = 0; m < members; m++) ScoreMember(m);

        // Per new event: the members' calibrated scores of that event, combined. The explanation (members'
        // verdicts, the best members' events and features) is composed on demand by the output.
        var rowStart = ScoringOutputBuffer.RowOffsets(batch);
        var buffer = new ScoringOutputBuffer(Name, rowStart[n]);
        Span<double> scores = members <= 64 ? stackalloc double[members] : new double[members];
        for (int i = 0; i < n; i++)
        {
            for (int e = 0; e < batch[i].NewEvents; e++)
            {
                for (int m = 0; m < members; m++) scores[m] = memberOutputs[m][i].ScoreAt(e);
                double raw = Combine(scores);
                buffer.Set(rowStart[i] + e, raw, Calibration.Map(raw));
            }
        }
        var outputs = new ScoringOutput[n];
        for (int i = 0; i < n; i++)
        {
            var own = new ScoringOutput[members];
            for (int m = 0; m < members; m++) own[m] = memberOutputs[m][i];
            var state = packed is not null ? new ModelStateSlot(key, batch[i].EventCount, packed[i])
                : IsStateful ? PackState(key, batch[i].EventCount, memberOutputs, i) : null;
            outputs[i] = buffer.Output(rowStart[i], batch[i].NewEvents, state, own);
        }
        return outputs;
    }

    /// <summary>Combines members' calibrated scores.</summary>
    public double Combine(ReadOnlySpan<double> scores)
    {
        switch (_parameters.Combine)
        {
            case EnsembleCombination.Max:
            {
                double max = double.NegativeInfinity;
                foreach (double s in scores) max = Math.Max(max, s);
                return max;
            }
            case EnsembleCombination.Mean:
            {
                double sum = 0;
                foreach (double s in scores) sum += s;
                return sum / scores.Length;
            }
            default:
            {
                double sum = 0;
                int votes = 0;
                foreach (double s in scores)
                {
                    sum += s;
                    if (s >= _parameters.VoteLevel) votes++;
                }
                // Votes dominate; the mean (bounded to < 1 vote) breaks ties.
                double mean = sum / scores.Length;
                return votes + mean / (1 + Math.Abs(mean));
            }
        }
    }

    private ModelStateSlot? MemberState(ModelStateSlot? slot, string key, int member)
    {
        if (slot is null || slot.ModelKey != key) return null;
        var values = slot.Values;
        if (values.Length < _members.Length) return null;
        int at = _members.Length;
        for (int m = 0; m < member; m++) at += (int)values[m];
        int length = (int)values[member];
        if (length <= 0 || at + length > values.Length) return null;
        return new ModelStateSlot(_members[member].StateKey, slot.EventsFolded, values[at..(at + length)]);
    }

    /// <summary>Each input's new slot values for in-place scoring: the members' lengths written, their values left to them.</summary>
    private float[][] NewPackedStates(IReadOnlyList<ScoringInput> batch)
    {
        var lengths = _inPlaceLengths!;
        int total = lengths.Length;
        foreach (int length in lengths) total += length;
        var packed = new float[batch.Count][];
        for (int i = 0; i < packed.Length; i++)
        {
            var values = packed[i] = new float[total];
            for (int m = 0; m < lengths.Length; m++) values[m] = lengths[m];
        }
        return packed;
    }

    /// <summary>Where member <paramref name="member"/>'s values start in an in-place packed slot.</summary>
    private int PackedOffset(int member)
    {
        int at = _inPlaceLengths!.Length;
        for (int m = 0; m < member; m++) at += _inPlaceLengths[m];
        return at;
    }

    private ModelStateSlot PackState(string key, long eventCount, ScoringOutput[][] memberOutputs, int i)
    {
        int total = _members.Length;
        for (int m = 0; m < _members.Length; m++) total += memberOutputs[m][i].NewState?.Values.Length ?? 0;
        var values = new float[total];
        int at = _members.Length;
        for (int m = 0; m < _members.Length; m++)
        {
            var state = memberOutputs[m][i].NewState?.Values;
            values[m] = state?.Length ?? 0;
            if (state is null) continue;
            state.CopyTo(values, at);
            at += state.Length;
        }
        return new ModelStateSlot(key, eventCount, values);
    }

    internal override void FitCalibration(IReadOnlyList<CalibrationSample> samples, CalibrationOptions options, EntityActivity activity)
    {
        for (int m = 0; m < _members.Length; m++)
        {
            int member = m;
            var memberSamples = samples.Select(s => s with { RawScore = s.MemberRawScores![member], MemberRawScores = null }).ToArray();
            _members[m].FitCalibration(memberSamples, options, activity);
        }
        var combined = samples.Select(s =>
        {
            var calibrated = new double[_members.Length];
            for (int m = 0; m < _members.Length; m++) calibrated[m] = _members[m].Calibration.Map(s.MemberRawScores![m]);
            return s with { RawScore = Combine(calibrated) };
        }).ToArray();
        var calibration = CalibrationSample.Fit(combined, options, TailScaleFloor);
        SetCalibration(calibration, AlertThreshold.Fit(CalibrationSample.UserDayMaxima(combined, calibration.Map), activity));
    }

    /// <summary>The members' calibrated scores are -log10 of a normal user-day's chance to reach them: the max of M of them
    /// reaches c with probability at most M x 10^-c, so beyond the sample one more unit is at most 10 times rarer (a mean
    /// moves by 1/M per unit of one member). A vote count is no log-probability.</summary>
    internal override double TailScaleFloor => _parameters.Combine switch
    {
        EnsembleCombination.Max => 1 / Math.Log(10),
        EnsembleCombination.Mean => 1 / (Math.Log(10) * _members.Length),
        _ => 0,
    };

    /// <summary>
    /// Puts <paramref name="member"/> in place of member <paramref name="index"/> (which is disposed): for a private copy
    /// that is saved and loaded again before it scores (online fine-tuning refits feature members this way). The new
    /// member must be of the same kind and statefulness, so that the ensemble's state layout stays as it was.
    /// </summary>
    internal void ReplaceMember(int index, AnomalyDetector member)
    {
        var old = _members[index];
        if (member.Name != old.Name || member.IsStateful != old.IsStateful)
            throw new ArgumentException($"member {index} is '{old.Name}'; '{member.Name}' cannot take its place", nameof(member));
        _members[index] = member;
        old.Dispose();
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        for (int m = 0; m < _members.Length; m++) writer.Add($"member/{m}", _members[m].ToFile().ToBytes());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var member in _members) member.Dispose();
    }

    private sealed class KindImpl : IDetectorKind<EnsembleHyperParameters>
    {
        public string Name => "ensemble";

        public string Description => "calibrated combination (max, mean or vote) of member detectors";

        public EnsembleHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            if (p.Members.Count == 0) throw new ArgumentException("streamdetect.models.ensemble.members is empty");
            var kinds = new List<IDetectorKind>(); // all resolved before any member trains
            // Challengers are trained only to be judged by the selection (they join when they earn it).
            var names = p.SelectMembers ? p.Members.Concat(p.Challengers.Where(c => !p.Members.Contains(c))).ToArray() : [.. p.Members];
            foreach (string name in names)
            {
                if (!DetectorRegistry.Default.TryGet(name, out var kind))
                    throw new ArgumentException($"streamdetect.models.ensemble.members: unknown model '{name}' (known: {string.Join(", ", DetectorRegistry.Default.Names)})");
                if (kind == this) throw new ArgumentException("an ensemble cannot be a member of itself");
                kinds.Add(kind);
            }
            var members = new List<AnomalyDetector>();
            try
            {
                foreach (var kind in kinds)
                {
                    context.Report(Name, $"training member '{kind.Name}'");
                    members.Add(kind.Train(context));
                }
            }
            catch
            {
                foreach (var member in members) member.Dispose();
                throw;
            }
            if (p.SelectMembers && members.Count > 1)
            {
                if (p.SelectionUsers < 10) throw new ArgumentException($"streamdetect.models.ensemble.selection-users must be at least 10, got {p.SelectionUsers}");
                var challenger = members.Select((m, i) => i >= p.Members.Count).ToArray();
                var (keep, report) = MemberSelection.Select(members, challenger, context, p);
                foreach (string line in report) context.Report(Name, line);
                for (int m = 0; m < members.Count; m++) if (!keep.Contains(m)) members[m].Dispose();
                members = [.. keep.Select(m => members[m])];
                p = p with { Members = [.. members.Select(m => m.Name)] };
            }
            return new EnsembleDetector(p, [.. members], context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, torch.Device device)
        {
            var p = file.ReadJson<EnsembleHyperParameters>("hyperparameters");
            var members = new List<AnomalyDetector>();
            try
            {
                for (int m = 0; m < p.Members.Count; m++)
                {
                    var nested = ModelFileReader.Parse(file.Section($"member/{m}"), $"{file.Path}#member/{m}");
                    members.Add(DetectorFile.Load(nested, device, DetectorRegistry.Default));
                }
            }
            catch
            {
                foreach (var member in members) member.Dispose();
                throw;
            }
            var detector = new EnsembleDetector(p, [.. members], device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
