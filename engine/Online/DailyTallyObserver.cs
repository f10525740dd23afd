using StreamDetect.Models.Evaluation;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>
/// `eval --online`'s per-day figures from the live path itself: every decided event from <see cref="FromMs"/> on goes
/// to a <see cref="DailyTally"/> (the same tally as plain `eval`'s), alerted when the live path raised an alert on it
/// (whichever version decided it), anomalous when its label is 1. Thread-safe.
/// </summary>
public sealed class DailyTallyObserver : IScoringObserver
{
    private readonly object _gate = new();
    private readonly DailyTally _tally;
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal);
    private readonly List<string> _ids = [];

    public DailyTallyObserver(long firstEventMs, long fromMs)
    {
        _tally = new DailyTally(firstEventMs);
        FromMs = fromMs;
    }

    public long FromMs { get; }

    public void Decided(DecidedRequest decided, ShadowVerdicts? shadow)
    {
        var request = decided.Request;
        lock (_gate)
        {
            if (!_users.TryGetValue(request.UserId, out int user))
            {
                user = _ids.Count;
                _users[request.UserId] = user;
                _ids.Add(request.UserId);
            }
            for (int i = 0; i < request.NewEvents; i++)
            {
                long time = request.Window[request.FirstNewIndex + i].TimestampMs;
                if (time < FromMs) continue;
                long number = request.EventIndexOf(i);
                bool alerted = decided.Alerts.Any(a => a.EventIndex == number);
                bool anomalous = request.Labels is { } labels && labels[i] == 1;
                _tally.Add(user, time, alerted, anomalous);
            }
        }
    }

    /// <summary>The per-day rows; <paramref name="isNormal"/> says which users count as normal (from the truth file).</summary>
    public IReadOnlyList<DayMetrics> Days(Func<string, bool> isNormal)
    {
        lock (_gate) return _tally.Days(u => isNormal(_ids[u]));
    }
}
