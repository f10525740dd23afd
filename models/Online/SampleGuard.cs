namespace StreamDetect.Models.Online;

/// <summary>
/// Decides what online fine-tuning may learn from (issue 11, "the guard"). A traffic sample is admitted only when it is
/// clearly normal: its calibrated score below <see cref="OnlineLearningOptions.ScoreQuantile"/> under the champion and
/// under the base version, no alert, its user not in cooldown, no positive feedback, and, once it has passed those,
/// older than <see cref="OnlineLearningOptions.HoldBack"/> in event time (it waits in a holding queue meanwhile, where
/// <see cref="Purge"/> reaches it). The buffer then applies its caps and reservoir. Analyst false-alarm labels skip the
/// score, alert and hold-back rules (an analyst judged them) and go to their own capped reservoir. Every decision is
/// counted by <see cref="GuardVerdict"/>. The new-type rule (<see cref="OnlineLearningOptions.NewTypeRule"/>) lets a sample
/// that the score, alert or cooldown rules refuse be held back all the same when its only surprise is new event types
/// that a population shows (<see cref="OnlineSample.WithoutNewTypes"/>, judged by <see cref="NewTypePopulation"/>). An alert
/// on a user (<see cref="AlertRaised"/>) quarantines it (<see cref="OnlineLearningOptions.AlertQuarantine"/>): its held and
/// buffered samples are purged and its samples refused, so the approach of a slow poisoner, whose sessions rise toward an
/// attack until one alerts, is not learned before the alert nor once the cooldown ends. With <see cref="OnlineLearningOptions.Guards"/> off every traffic sample goes
/// to the buffer unjudged and uncapped (only to measure what the guards buy). Not thread-safe.
/// </summary>
public sealed class SampleGuard
{
    private readonly OnlineLearningOptions _options;
    private readonly List<OnlineSample> _held = [];
    private readonly HashSet<string> _flagged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _quarantinedFrom = new(StringComparer.Ordinal);
    private readonly long _quarantineMs;
    private readonly long[] _counts = new long[Enum.GetValues<GuardVerdict>().Length];
    private readonly long _holdBackMs;

    public SampleGuard(OnlineLearningOptions options)
    {
        options.Validate();
        _options = options;
        _holdBackMs = (long)options.HoldBack.TotalMilliseconds;
        _quarantineMs = (long)options.AlertQuarantine.TotalMilliseconds;
        Buffer = new OnlineSampleBuffer(options, new Random(options.Seed), capped: options.Guards);
    }

    /// <summary>The admitted samples.</summary>
    public OnlineSampleBuffer Buffer { get; }

    /// <summary>Samples that passed the rules and wait for the hold-back delay.</summary>
    public int HeldCount => _held.Count;

    /// <summary>How many decisions of each kind the guard made.</summary>
    public long CountOf(GuardVerdict verdict) => _counts[(int)verdict];

    /// <summary>Every decision count, by name (for metrics and the run report).</summary>
    public IReadOnlyDictionary<string, long> Counts =>
        Enum.GetValues<GuardVerdict>().ToDictionary(v => v.ToString(), v => _counts[(int)v]);

    /// <summary>Judges a sample: <see cref="GuardVerdict.HeldBack"/> when it passed the rules and waits, a refusal reason,
    /// or (false-alarm labels, guards off) the buffer's verdict.</summary>
    public GuardVerdict Offer(OnlineSample sample)
    {
        if (!_options.Guards && sample.Source == OnlineSampleSource.Traffic) return Counted(Buffer.Add(sample));
        if (sample.FeedbackPositive || _flagged.Contains(sample.UserId)) return Counted(GuardVerdict.FeedbackPositive);
        if (sample.Source == OnlineSampleSource.FalseAlarmLabel) return Counted(Buffer.Add(sample));
        var refused = Refusal(sample);
        if (refused is GuardVerdict refusal)
        {
            if (refusal == GuardVerdict.Quarantined || !PassesNewTypeRule(sample)) return Counted(refusal);
            _held.Add(sample);
            return Counted(GuardVerdict.HeldBackNewTypes);
        }
        _held.Add(sample);
        return Counted(GuardVerdict.HeldBack);
    }

    /// <summary>The first of the alert, cooldown and score rules a traffic sample breaks, or null.</summary>
    private GuardVerdict? Refusal(OnlineSample sample)
    {
        if (sample.Alerted) return GuardVerdict.Alerted;
        if (sample.InCooldown) return GuardVerdict.InCooldown;
        if (IsQuarantined(sample)) return GuardVerdict.Quarantined;
        double ceiling = _options.ScoreCeiling;
        if (!(sample.ChampionScore < ceiling)) return GuardVerdict.AboveChampionQuantile;
        if (!(sample.BaseScore < ceiling)) return GuardVerdict.AboveBaseQuantile;
        return null;
    }

    /// <summary>
    /// The new-type rule (<see cref="OnlineLearningOptions.NewTypeRule"/>): the sample's window holds new types that a
    /// population shows (the caller judged it without their events: <see cref="OnlineSample.WithoutNewTypes"/>), and so
    /// judged it is below the quantile under the champion and the base, and its alert or cooldown (if any) came from the
    /// new types alone. A sample of known types only carries no such judgement, so this never admits it.
    /// </summary>
    private bool PassesNewTypeRule(OnlineSample sample)
    {
        if (!_options.NewTypeRule || sample.WithoutNewTypes is not { } without) return false;
        double ceiling = _options.ScoreCeiling;
        if ((sample.Alerted || sample.InCooldown) && !without.AlertsExplained) return false;
        return without.ChampionScore < ceiling && without.BaseScore < ceiling;
    }

    /// <summary>
    /// An alert on <paramref name="userId"/> at event time <paramref name="alertTimeMs"/> that the new-type rule does not
    /// explain (the caller tells every such alert, sampled or not): the user's held and buffered samples are purged (counted
    /// as <see cref="GuardVerdict.Purged"/>: they led up to the alert) and its samples before
    /// <paramref name="alertTimeMs"/> + <see cref="OnlineLearningOptions.AlertQuarantine"/> are refused as
    /// <see cref="GuardVerdict.Quarantined"/>. Returns how many samples were purged (none with guards off or a zero quarantine).
    /// </summary>
    public int AlertRaised(string userId, long alertTimeMs)
    {
        if (!_options.Guards || _quarantineMs == 0) return 0;
        long until = alertTimeMs + _quarantineMs;
        if (!_quarantinedFrom.TryGetValue(userId, out long current) || current < until) _quarantinedFrom[userId] = until;
        int removed = _held.RemoveAll(s => s.UserId == userId) + Buffer.Purge(userId);
        _counts[(int)GuardVerdict.Purged] += removed;
        return removed;
    }

    /// <summary>Whether the sample's user is quarantined at its time (an alert less than the quarantine before it, or later:
    /// the samples of a period are offered after its alerts are told, so the ones before an alert are its lead-up).</summary>
    private bool IsQuarantined(OnlineSample sample) =>
        _quarantinedFrom.TryGetValue(sample.UserId, out long until) && sample.EventTimeMs < until;

    /// <summary>
    /// Moves the held samples that are now older than the hold-back delay (event time <paramref name="watermarkMs"/>: the
    /// stream's progress) into the buffer, once the buffered ones older than <see cref="OnlineLearningOptions.BufferMaxAge"/>
    /// have left it; returns each moved sample with the buffer's verdict.
    /// </summary>
    public IReadOnlyList<(OnlineSample Sample, GuardVerdict Verdict)> Advance(long watermarkMs)
    {
        // The old samples leave first, so the ones released now do not compete with them for the room.
        if (_options.BufferMaxAge > TimeSpan.Zero) Buffer.ForgetBefore(watermarkMs - (long)_options.BufferMaxAge.TotalMilliseconds);
        // A quarantine that ended before the stream's progress refuses nothing more (no sample is offered that old).
        foreach (string user in _quarantinedFrom.Where(q => q.Value <= watermarkMs - _holdBackMs).Select(q => q.Key).ToList()) _quarantinedFrom.Remove(user);
        var released = new List<(OnlineSample, GuardVerdict)>();
        long until = watermarkMs - _holdBackMs;
        int kept = 0;
        for (int i = 0; i < _held.Count; i++)
        {
            var sample = _held[i];
            if (sample.EventTimeMs <= until) released.Add((sample, Counted(Buffer.Add(sample))));
            else _held[kept++] = sample;
        }
        _held.RemoveRange(kept, _held.Count - kept);
        return released;
    }

    /// <summary>
    /// Late positive feedback on a user: its held and buffered samples go (counted as <see cref="GuardVerdict.Purged"/>),
    /// and its later samples are refused as <see cref="GuardVerdict.FeedbackPositive"/>. Returns how many were removed.
    /// </summary>
    public int Purge(string userId)
    {
        _flagged.Add(userId);
        int removed = _held.RemoveAll(s => s.UserId == userId) + Buffer.Purge(userId);
        _counts[(int)GuardVerdict.Purged] += removed;
        return removed;
    }

    private GuardVerdict Counted(GuardVerdict verdict)
    {
        _counts[(int)verdict]++;
        return verdict;
    }
}
