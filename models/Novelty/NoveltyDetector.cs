using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Novelty;

/// <summary>
/// Count-based novelty evidence against what normal training sessions held (<see cref="NormalSessionProfile"/>).
/// Every event adds evidence to its open session when it shows something training never did: a type never seen
/// (ln(training events + 2) nats: the rule-of-succession surprise of a new type), a transition never seen from
/// the previous type or the session start (ln(times that type was followed + 2)), a per-type count above the
/// largest in a training session, a session longer than any (each ln(training sessions + 2), once per type and
/// session: the event that first goes beyond, so that a long session does not pile evidence up event by event). At an end marker
/// the closed session is judged as a whole: an ending never seen after its last type, a session shorter than
/// any, a type every training session held missing, a duration outside the training range, and a bucketed
/// per-type count vector never seen (weighted by its distance to the nearest seen one). An event's raw score is
/// its session's evidence so far (a session that showed a novelty stays suspicious until it closes), plus a small
/// rarity term (-ln p of a seen transition) that orders sessions without novelty.
/// <para>
/// Per-user state: the open session's counts, length, previous type, times and evidence (<see cref="SessionCounts"/>),
/// in the model state slot. A missing or stale state is rebuilt from the window: back to its last end marker or
/// split gap. When the open session began before the window, the rebuilt counts and length are lower bounds
/// (only "above the training maximum" is judged then, not what the closed session lacks) and the transition into
/// the window's first event is not judged.
/// </para>
/// </summary>
public sealed class NoveltyDetector : AnomalyDetector
{
    private readonly NoveltyHyperParameters _parameters;
    private readonly NormalSessionProfile _profile;
    private readonly long _splitGapMs;
    private readonly double _newType;
    private readonly double _perSession;

    private NoveltyDetector(NoveltyHyperParameters parameters, NormalSessionProfile profile, torch.Device device)
        : base("novelty", device)
    {
        _parameters = parameters;
        _profile = profile;
        _splitGapMs = (long)(parameters.SplitGapSeconds * 1000);
        _newType = Math.Log(profile.EventCount + 2.0);
        _perSession = Math.Log(profile.Sessions + 2.0);
    }

    public static IDetectorKind<NoveltyHyperParameters> Kind { get; } = new KindImpl();

    public override bool IsStateful => true;

    /// <summary>The event types seen in training.</summary>
    public IReadOnlyList<string> KnownTypes => _profile.Types;

    protected override ScoringOutput[] Score(IReadOnlyList<ScoringInput> batch)
    {
        string key = StateKey;
        var rowStart = ScoringOutputBuffer.RowOffsets(batch);
        var buffer = new ScoringOutputBuffer(Name, rowStart[^1]);
        var states = new ModelStateSlot[batch.Count];
        var session = new SessionCounts(_profile.Types.Length);
        var before = new SessionCounts(_profile.Types.Length);
        for (int i = 0; i < batch.Count; i++)
        {
            var input = batch[i];
            bool fresh = input.State is { } state && state.ModelKey == key && state.EventsFolded == input.EventCount - input.NewEvents
                && session.TryRead(state.Values);
            if (!fresh) Rebuild(input, input.FirstNewIndex, session);
            for (int e = 0; e < input.NewEvents; e++)
            {
                int at = input.FirstNewIndex + e;
                before.CopyFrom(session);
                double raw = Step(session, input.Window[at], at, null);
                double score = Calibration.Map(raw);
                buffer.Set(rowStart[i] + e, raw, score);
                if (score >= ExplainFrom) buffer.Explain(rowStart[i] + e, Explain(before, input.Window[at], at, raw));
            }
            states[i] = new ModelStateSlot(key, input.EventCount, session.WriteTo());
        }
        var outputs = new ScoringOutput[batch.Count];
        for (int i = 0; i < batch.Count; i++) outputs[i] = buffer.Output(rowStart[i], batch[i].NewEvents, states[i]);
        return outputs;
    }

    /// <summary>The open session as of window index <paramref name="upTo"/> (exclusive), from the window alone.</summary>
    private void Rebuild(ScoringInput input, int upTo, SessionCounts session)
    {
        var window = input.Window;
        int start = -1;
        for (int k = upTo - 1; k >= 0 && start < 0; k--)
        {
            if (SessionRule.IsEndMarker(window[k])) start = k + 1;
            else if (k > 0 && window[k].TimestampMs - window[k - 1].TimestampMs > _splitGapMs) start = k;
        }
        bool known = start >= 0 || input.WindowStartsAtUserStart;
        session.Reset();
        if (!known) session.PreviousType = SessionCounts.Unseen;
        session.StartKnown = known;
        for (int k = Math.Max(0, start); k < upTo; k++) Step(session, window[k], k, null);
    }

    /// <summary>Folds one window entry into the open session; returns its raw score.</summary>
    private double Step(SessionCounts session, in WindowEntry entry, int windowIndex, Findings? findings)
    {
        if (SessionRule.IsEndMarker(entry)) return Close(session, entry, windowIndex, findings);
        if (session.IsOpen && entry.TimestampMs - session.LastMs > _splitGapMs)
        {
            session.Reset(); // closed by the gap without a marker: nothing to score it on
        }
        if (!session.IsOpen) session.StartMs = entry.TimestampMs;
        int type = _profile.IndexOf(entry.Type);
        int previous = session.PreviousType;
        double evidence = 0, rarity = 0;
        if (type == SessionCounts.Unknown)
        {
            evidence += _newType;
            findings?.Event(windowIndex, entry, _newType, previous >= SessionCounts.Start ? previous : null, "type never seen in training");
        }
        else
        {
            if (previous >= SessionCounts.Start)
            {
                int n = _profile.TransitionCount(previous, type);
                int from = _profile.FromCount(previous);
                if (n == 0)
                {
                    double e = Math.Log(from + 2.0);
                    evidence += e;
                    findings?.Event(windowIndex, entry, e, previous,
                        previous == SessionCounts.Start ? "never starts a session in training" : $"never follows {_profile.Types[previous]} in training");
                }
                else rarity = -Math.Log((double)n / from);
            }
            int count = ++session.Counts[type];
            if (count == _profile.MaxCounts[type] + 1) // once per type and session: a long normal session must not pile it up
            {
                evidence += _perSession;
                findings?.Count($"session_count_{entry.Type} (normal {_profile.MinCounts[type]}..{_profile.MaxCounts[type]})", count, _perSession);
            }
        }
        session.Length++;
        if (session.Length == _profile.MaxLength + 1)
        {
            evidence += _perSession;
            findings?.Count($"session_length (normal {_profile.MinLength}..{_profile.MaxLength})", session.Length, _perSession);
        }
        session.PreviousType = type;
        session.LastMs = entry.TimestampMs;
        session.Evidence = (float)(session.Evidence + evidence);
        return session.Evidence + _parameters.RarityWeight * rarity;
    }

    /// <summary>Judges the closed session as a whole at its end marker; returns the marker's raw score.</summary>
    private double Close(SessionCounts session, in WindowEntry marker, int windowIndex, Findings? findings)
    {
        if (!session.IsOpen)
        {
            session.Reset();
            return 0;
        }
        double evidence = 0, rarity = 0;
        int previous = session.PreviousType;
        if (previous >= SessionCounts.Start)
        {
            int n = _profile.TransitionCount(previous, _profile.End);
            int from = _profile.FromCount(previous);
            if (n == 0)
            {
                double e = Math.Log(from + 2.0);
                evidence += e;
                findings?.Event(windowIndex, marker, e, previous, $"sessions never end after {_profile.Types[previous]} in training");
            }
            else rarity = -Math.Log((double)n / from);
        }
        if (session.StartKnown)
        {
            if (session.Length < _profile.MinLength)
            {
                evidence += _perSession;
                findings?.Count($"session_length (normal {_profile.MinLength}..{_profile.MaxLength})", session.Length, _perSession);
            }
            else
            {
                for (int t = 0; t < session.Counts.Length; t++)
                {
                    if (session.Counts[t] >= _profile.MinCounts[t]) continue;
                    evidence += _perSession;
                    findings?.Count($"session_count_{_profile.Types[t]} (normal {_profile.MinCounts[t]}..{_profile.MaxCounts[t]})", session.Counts[t], _perSession);
                    break; // one missing type is the evidence; the others are listed by the count vector
                }
            }
            long duration = session.LastMs - session.StartMs;
            if (duration < _profile.MinDurationMs || duration > _profile.MaxDurationMs)
            {
                double e = _parameters.DurationWeight * _perSession;
                evidence += e;
                findings?.Count($"session_duration_s (normal {_profile.MinDurationMs / 1000.0:0.#}..{_profile.MaxDurationMs / 1000.0:0.#})", duration / 1000.0, e);
            }
            int distance = _profile.VectorDistance(_profile.BucketVector(session.Counts), 2);
            if (distance > 0)
            {
                double e = _parameters.CountVectorWeight * _perSession * distance;
                evidence += e;
                findings?.Count($"session_count_vector (distance to the nearest of {_profile.Vectors.Length} seen, in count buckets)", distance, e);
            }
        }
        double raw = session.Evidence + evidence + _parameters.RarityWeight * rarity;
        session.Reset();
        return raw;
    }

    /// <summary>What the event (or the close) showed, from the session as it was before it, and the evidence the
    /// session held already (earlier novelties: an event's score is its session's evidence so far).</summary>
    private Explanation Explain(SessionCounts before, in WindowEntry entry, int windowIndex, double raw)
    {
        var findings = new Findings(this);
        bool continues = !SessionRule.IsEndMarker(entry) && before.IsOpen && entry.TimestampMs - before.LastMs <= _splitGapMs;
        float earlier = continues || SessionRule.IsEndMarker(entry) ? before.Evidence : 0;
        SessionEndReason? end = null;
        if (SessionRule.IsEndMarker(entry) && before.IsOpen)
        {
            int previous = before.PreviousType;
            bool known = previous >= 0;
            int from = known ? _profile.FromCount(previous) : 0;
            end = new SessionEndReason(
                known ? _profile.Types[previous] : null,
                from > 0 ? (double)_profile.TransitionCount(previous, _profile.End) / from : 0,
                known ? [.. _profile.Successors(previous, _parameters.ExplainTop).Select(x => new ExpectedEvent(x.Type, x.Share))] : [],
                _profile.EndsAfter(_parameters.ExplainTop));
        }
        Step(before, entry, windowIndex, findings);
        if (earlier > 0) findings.Count("session_novelty_before (nats of earlier novelty in this session)", earlier, earlier);
        return findings.ToExplanation(Name, raw) with { SessionEnd = end };
    }

    protected override void WriteSections(ModelFileWriter writer)
    {
        writer.AddJson("hyperparameters", _parameters);
        writer.Add("profile", _profile.WriteTo);
    }

    /// <summary>What an explanation lists: the novel events (type or transition never seen, with what normally
    /// follows) and the counts that are off (with their training range).</summary>
    private sealed class Findings(NoveltyDetector detector)
    {
        private readonly List<UnexpectedEvent> _events = [];
        private readonly List<(string Feature, double Value, double Evidence)> _counts = [];

        public void Event(int windowIndex, in WindowEntry entry, double evidence, int? previous, string why)
        {
            var profile = detector._profile;
            var expected = previous is { } p
                ? profile.Successors(p, detector._parameters.ExplainTop).Select(s => new ExpectedEvent(s.Type, s.Share)).ToArray()
                : [];
            _events.Add(new UnexpectedEvent(windowIndex, entry.TimestampMs, entry.Type, evidence, true, expected));
            _counts.Add(($"novel: {entry.Type} {why}", 1, evidence));
        }

        public void Count(string feature, double value, double evidence) => _counts.Add((feature, value, evidence));

        public Explanation ToExplanation(string model, double raw)
        {
            double total = _counts.Sum(c => c.Evidence);
            var features = _counts.OrderByDescending(c => c.Evidence)
                .Select(c => new FeatureContribution(c.Feature, c.Value, total > 0 ? c.Evidence / total : 0)).ToArray();
            var events = _events.OrderByDescending(e => e.Surprise).ToArray();
            return new Explanation(model, raw, events, features, []);
        }
    }

    private sealed class KindImpl : IDetectorKind<NoveltyHyperParameters>
    {
        public string Name => "novelty";

        public string Description => "count/novelty evidence per session: unseen types and transitions, counts, lengths, endings";

        public NoveltyHyperParameters DefaultHyperParameters { get; } = new();

        public AnomalyDetector Train(TrainingContext context)
        {
            var p = context.HyperParameters(this);
            if (!(p.SplitGapSeconds > 0)) throw new ArgumentException($"streamdetect.models.novelty.split-gap-seconds must be positive, got {p.SplitGapSeconds}");
            if (p.MaxCountVectors < 1) throw new ArgumentException($"streamdetect.models.novelty.max-count-vectors must be at least 1, got {p.MaxCountVectors}");
            var profile = NormalSessionProfile.Learn(context.Training.Users.Select(u => u.Entries), (long)(p.SplitGapSeconds * 1000), p.MaxCountVectors);
            context.Report(Name, $"learned {profile.Types.Length} types, {profile.Sessions} sessions (length {profile.MinLength}..{profile.MaxLength}), " +
                                 $"{profile.Vectors.Length} distinct count vectors");
            return new NoveltyDetector(p, profile, context.Device);
        }

        public AnomalyDetector Load(ModelFileReader file, torch.Device device)
        {
            var detector = new NoveltyDetector(file.ReadJson<NoveltyHyperParameters>("hyperparameters"),
                file.Read("profile", NormalSessionProfile.ReadFrom), device);
            detector.ReadCalibration(file);
            return detector;
        }
    }
}
