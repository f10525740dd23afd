namespace StreamDetect.Engine.Online;

/// <summary>
/// Users decided and users alerted, per interval of the boundary grid, by the champion and by the shadow: the alert rates
/// the promotion and rollback decisions read (sets of users, so the order requests were decided in changes nothing).
/// Used on the trainer's thread only.
/// </summary>
public sealed class AlertRateTally
{
    private readonly long _intervalMs;
    private readonly SortedDictionary<long, Interval> _intervals = new();

    public AlertRateTally(long intervalMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intervalMs, 1);
        _intervalMs = intervalMs;
    }

    public void Add(long orderKey, string userId, bool alerted, bool? shadowAlerted)
    {
        long start = Math.DivRem(orderKey, _intervalMs, out long rest) * _intervalMs - (rest < 0 ? _intervalMs : 0);
        if (!_intervals.TryGetValue(start, out var interval)) _intervals[start] = interval = new Interval();
        interval.Users.Add(userId);
        if (alerted) interval.Alerted.Add(userId);
        if (shadowAlerted is bool shadow)
        {
            interval.ShadowUsers.Add(userId);
            if (shadow) interval.ShadowAlerted.Add(userId);
        }
    }

    /// <summary>The champion's alert rate over keys in [<paramref name="fromKey"/>, <paramref name="untilKey"/>): alerted users / users.</summary>
    public (int Users, int Alerted) Champion(long fromKey, long untilKey) => Rate(fromKey, untilKey, i => i.Users, i => i.Alerted);

    /// <summary>The shadow's alert rate over the users it scored in [<paramref name="fromKey"/>, <paramref name="untilKey"/>).</summary>
    public (int Users, int Alerted) Shadow(long fromKey, long untilKey) => Rate(fromKey, untilKey, i => i.ShadowUsers, i => i.ShadowAlerted);

    /// <summary>
    /// The champion's alert rate over the same users as <see cref="Shadow"/>: the users the shadow scored in
    /// [<paramref name="fromKey"/>, <paramref name="untilKey"/>), and those of them the champion alerted in it (the two
    /// versions compared on the same users in the same window).
    /// </summary>
    public (int Users, int Alerted) ChampionOnShadowUsers(long fromKey, long untilKey)
    {
        var users = new HashSet<string>(StringComparer.Ordinal);
        var alerted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (start, interval) in _intervals)
        {
            if (start + _intervalMs <= fromKey || start >= untilKey) continue;
            users.UnionWith(interval.ShadowUsers);
            alerted.UnionWith(interval.Alerted);
        }
        alerted.IntersectWith(users);
        return (users.Count, alerted.Count);
    }

    /// <summary>Forgets the intervals that end at or before <paramref name="key"/>.</summary>
    public void ForgetBefore(long key)
    {
        foreach (long start in _intervals.Keys.Where(s => s + _intervalMs <= key).ToList()) _intervals.Remove(start);
    }

    private (int, int) Rate(long fromKey, long untilKey, Func<Interval, HashSet<string>> users, Func<Interval, HashSet<string>> alerted)
    {
        var all = new HashSet<string>(StringComparer.Ordinal);
        var flagged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (start, interval) in _intervals)
        {
            if (start + _intervalMs <= fromKey || start >= untilKey) continue;
            all.UnionWith(users(interval));
            flagged.UnionWith(alerted(interval));
        }
        return (all.Count, flagged.Count);
    }

    private sealed class Interval
    {
        public HashSet<string> Users { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Alerted { get; } = new(StringComparer.Ordinal);
        public HashSet<string> ShadowUsers { get; } = new(StringComparer.Ordinal);
        public HashSet<string> ShadowAlerted { get; } = new(StringComparer.Ordinal);
    }
}
