using StreamDetect.Models.Features;

namespace StreamDetect.Models.Detection;

/// <summary>
/// The verdicts on one <see cref="ScoringInput"/>: one per new event, oldest first (index i is the i-th
/// new event, <c>0..Count-1</c>), each the verdict that scoring the events one at a time with the state
/// passed along would give; plus the detector's per-user state after the newest event.
/// <para>
/// Scores: calibrated anomaly score, higher = more anomalous: -log10 of the share of normal validation
/// user-days whose highest score reached this one (3 = 1 normal user-day in 1000; see
/// <see cref="CalibrationBasis"/>), extrapolated beyond the largest. Comparable across detectors. The
/// uncalibrated score is <see cref="RawScoreAt"/> (also in <see cref="Explanation.RawScore"/>).
/// </para>
/// <para>
/// Representation: the scores of a whole batch live in shared arrays and an output is a slice of them,
/// so a normal event costs no allocation of its own. Only events whose calibrated score reached the
/// detector's <see cref="AnomalyDetector.ExplainFrom"/> carry a stored, detailed explanation; for the
/// others <see cref="ExplanationAt"/> builds the plain one (model and raw score; for an ensemble, its
/// members' verdicts) on each call. Read-only once returned: safe to read from several threads.
/// </para>
/// </summary>
public sealed class ScoringOutput
{
    private readonly string _model;
    private readonly double[] _scores;
    private readonly double[] _rawScores;
    private readonly Explanation?[]? _explained;
    private readonly int _offset;
    private readonly ScoringOutput[]? _members;

    /// <summary>A verdict on a single new event (<see cref="Count"/> = 1).</summary>
    /// <param name="score">The calibrated score.</param>
    /// <param name="newState">The detector's new per-user state, or null for stateless detectors.</param>
    /// <param name="explanation">Why (its <see cref="Explanation.RawScore"/> is the raw score).</param>
    public ScoringOutput(double score, ModelStateSlot? newState, Explanation explanation)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        _model = explanation.Model;
        _scores = [score];
        _rawScores = [explanation.RawScore];
        _explained = [explanation];
        Count = 1;
        NewState = newState;
    }

    /// <summary>A slice <c>[offset, offset + count)</c> of a batch's arrays (see <see cref="ScoringOutputBuffer"/>).</summary>
    internal ScoringOutput(string model, double[] scores, double[] rawScores, Explanation?[]? explained, int offset, int count,
        ModelStateSlot? newState, ScoringOutput[]? members)
    {
        if (count < 1 || offset < 0 || offset + count > scores.Length) throw new ArgumentOutOfRangeException(nameof(count));
        _model = model;
        _scores = scores;
        _rawScores = rawScores;
        _explained = explained;
        _offset = offset;
        Count = count;
        NewState = newState;
        _members = members;
    }

    /// <summary>How many new events were judged (the input's <see cref="ScoringInput.NewEvents"/>).</summary>
    public int Count { get; }

    /// <summary>The detector's name (<c>lstm</c>, <c>ae</c>, ...).</summary>
    public string Model => _model;

    /// <summary>The detector's new per-user state after the newest event (store it and pass it back next time),
    /// or null for stateless detectors.</summary>
    public ModelStateSlot? NewState { get; }

    /// <summary>The calibrated score of the newest event (<c>ScoreAt(Count - 1)</c>).</summary>
    public double Score => ScoreAt(Count - 1);

    /// <summary>Why the newest event scored as it did (<c>ExplanationAt(Count - 1)</c>).</summary>
    public Explanation Explanation => ExplanationAt(Count - 1);

    /// <summary>For an ensemble: every member's output on the same input (same events); empty otherwise.</summary>
    public IReadOnlyList<ScoringOutput> Members => _members ?? [];

    /// <summary>The calibrated score of the i-th new event (0 = oldest).</summary>
    public double ScoreAt(int i) => _scores[Index(i)];

    /// <summary>The detector's uncalibrated score of the i-th new event.</summary>
    public double RawScoreAt(int i) => _rawScores[Index(i)];

    /// <summary>Whether the i-th new event's explanation lists events or features: its calibrated score reached
    /// the detector's ExplainFrom (for an ensemble: some member's did). Costs no allocation.</summary>
    public bool IsExplained(int i)
    {
        if (_explained?[Index(i)] is not null) return true;
        if (_members is null) return false;
        foreach (var member in _members)
            if (member.IsExplained(i)) return true;
        return false;
    }

    /// <summary>
    /// Why the i-th new event scored as it did: the stored detailed explanation when there is one, else
    /// the plain one (model and raw score, no events or features), built on this call. For an ensemble,
    /// every member's score and explanation, and the events and features of the highest-scoring members
    /// that list any.
    /// </summary>
    public Explanation ExplanationAt(int i)
    {
        int at = Index(i);
        if (_explained?[at] is { } explained) return explained;
        if (_members is null) return new Explanation(_model, _rawScores[at], [], [], []);
        return CombinedExplanation(i, _rawScores[at]);
    }

    private Explanation CombinedExplanation(int i, double rawScore)
    {
        var members = _members!;
        var memberScores = new MemberScore[members.Length];
        int bestEvents = -1, bestFeatures = -1;
        for (int m = 0; m < members.Length; m++)
        {
            var explanation = members[m].ExplanationAt(i);
            memberScores[m] = new MemberScore(members[m].Model, members[m].ScoreAt(i), explanation);
            if (explanation.UnexpectedEvents.Count > 0 && (bestEvents < 0 || memberScores[m].Score > memberScores[bestEvents].Score)) bestEvents = m;
            if (explanation.Features.Count > 0 && (bestFeatures < 0 || memberScores[m].Score > memberScores[bestFeatures].Score)) bestFeatures = m;
        }
        return new Explanation(_model, rawScore,
            bestEvents < 0 ? [] : memberScores[bestEvents].Explanation.UnexpectedEvents,
            bestFeatures < 0 ? [] : memberScores[bestFeatures].Explanation.Features,
            memberScores)
        {
            SessionEnd = bestEvents < 0 ? null : memberScores[bestEvents].Explanation.SessionEnd,
        };
    }

    private int Index(int i)
    {
        if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"an output of {Count} event(s)");
        return _offset + i;
    }

    public override string ToString() =>
        Count == 1 ? $"{_model}: {Score:F3}" : $"{_model}: {Count} events, newest {Score:F3}, max {Enumerable.Range(0, Count).Max(ScoreAt):F3}";
}
