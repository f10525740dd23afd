namespace StreamDetect.Models.Sequence;

/// <summary>
/// What a next-event model keeps per event, and from which raw score it alerts, for its decision mode.
/// <para>
/// <see cref="NextEventDecisionMode.Surprise"/>: the event's surprise (nats), calibrated; the wanted alert rate
/// sets the threshold.
/// </para>
/// <para>
/// <see cref="NextEventDecisionMode.TopK"/> (DeepLog): the event's rank evidence. An event inside the k most
/// likely types scores 0.5 * rank / k (in [0, 0.5): the likeliest type 0); one outside scores
/// 1 + s / (1 + s) with s its surprise (in [1, 2): rising with how unlikely it was, so outside-top-k events
/// still rank among themselves for PR-AUC). The user's score is the largest evidence in the ring (as the
/// surprise mode's default), calibrated on normal validation users like any score, and the detector alerts
/// from the calibrated score of raw 1 (<see cref="AlertRawScore"/>): exactly when an event of the ring fell
/// outside the top k, whatever the wanted alert rate. Run, eval and alerts then work unchanged.
/// </para>
/// </summary>
public sealed class NextEventDecision
{
    /// <param name="mode">The decision mode.</param>
    /// <param name="k">The k of the top-k rule (at most the vocabulary size; at least 1).</param>
    public NextEventDecision(NextEventDecisionMode mode, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        Mode = mode;
        K = k;
    }

    public NextEventDecisionMode Mode { get; }

    public int K { get; }

    /// <summary>The raw score from which the detector alerts whatever the wanted rate: 1 (an event outside the top
    /// k) in top-k mode; null in surprise mode (the rate decides).</summary>
    public double? AlertRawScore => Mode == NextEventDecisionMode.TopK ? 1.0 : null;

    /// <summary>How many of the ring's largest values make the user's score: the configured number for surprise,
    /// the largest alone for top-k (so the score reaches 1 exactly when an event fell outside).</summary>
    public int Aggregate(int aggregateTop) => Mode == NextEventDecisionMode.TopK ? 1 : aggregateTop;

    /// <summary>What the ring keeps for an event: its surprise, or its rank evidence (see the class).</summary>
    /// <param name="surprise">The event's surprise in nats (already raised for an unknown type).</param>
    /// <param name="rank">The 0-based rank of the event's type among the model's predictions (k or more: outside the top k).</param>
    public float Evidence(float surprise, int rank)
    {
        if (Mode == NextEventDecisionMode.Surprise || float.IsNaN(surprise)) return surprise;
        if (rank < K) return (float)(0.5 * rank / K);
        double s = Math.Max(0, surprise);
        return (float)(1 + s / (1 + s));
    }

    /// <summary>The 0-based rank of <paramref name="actual"/> among <paramref name="logProbabilities"/> (how many types are
    /// strictly likelier): an unknown or padding token counts as the last rank when it is not itself predicted.</summary>
    public static int RankOf(ReadOnlySpan<float> logProbabilities, long actual)
    {
        if (actual < 0 || actual >= logProbabilities.Length) return logProbabilities.Length;
        float p = logProbabilities[(int)actual];
        int rank = 0;
        foreach (float v in logProbabilities) if (v > p) rank++;
        return rank;
    }

    /// <summary>The rank of <paramref name="actual"/> within a prediction's top tokens (most likely first), or
    /// <paramref name="topTokens"/>.Length when it is not among them.</summary>
    public static int RankIn(ReadOnlySpan<long> topTokens, long actual)
    {
        int at = topTokens.IndexOf(actual);
        return at < 0 ? topTokens.Length : at;
    }

    /// <summary>In words, for reports and alert explanations.</summary>
    public string Describe() => Mode == NextEventDecisionMode.TopK
        ? $"top-{K} (DeepLog: an event outside the model's {K} most likely next events alerts)"
        : "calibrated surprise at the wanted alert rate";
}
