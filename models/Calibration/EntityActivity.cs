namespace StreamDetect.Models.Calibration;

/// <summary>
/// How many days the entities (users, or sessions when an entity is a session) of some traffic are
/// actually active: the UTC days on which each shows at least one scored event. A target "share r of
/// normal entities alerted over the period" becomes a per-active-day rate p with
/// mean_i(1 - (1 - p)^A_i) = r (A_i: entity i's active days; days treated as independent, which errs
/// towards fewer alerts): an entity that lives minutes is one active day, not the calendar span of the
/// data, and a user active every day of a week is seven.
/// <para>
/// Measured on the evaluated data (<see cref="Measure"/>), or carried by a model from its calibration
/// data and stretched to a period (<see cref="Over"/>): entities whose events span less than half of the
/// measured window came and went within it and keep their active days; the others are taken to be
/// truncated by the window and are active the same share of days over a longer (or shorter) period.
/// </para>
/// </summary>
public sealed class EntityActivity
{
    private readonly (double Days, long Entities)[] _groups;

    // Entities (active days, count) whose events span less than half the window; the rest of _groups are long-lived.
    private readonly (double Days, long Entities)[] _shortLived;

    private EntityActivity((double Days, long Entities)[] groups, double windowDays, (double Days, long Entities)[] shortLived)
    {
        _groups = groups;
        WindowDays = windowDays;
        _shortLived = shortLived;
        Entities = groups.Sum(g => g.Entities);
        MeanActiveDays = Entities == 0 ? 1 : groups.Sum(g => g.Days * g.Entities) / Entities;
    }

    /// <summary>Entities counted.</summary>
    public long Entities { get; }

    /// <summary>Mean active days per entity.</summary>
    public double MeanActiveDays { get; }

    /// <summary>The calendar days of the window the activity was measured on (0 when not measured).</summary>
    public double WindowDays { get; }


    /// <summary>Every entity active every day of <paramref name="periodDays"/> (the rule before activity was measured).</summary>
    public static EntityActivity EveryDay(double periodDays)
    {
        double days = Math.Max(1, periodDays);
        return new EntityActivity([(days, 1)], 0, []);
    }

    /// <summary>Measures the activity of entities from their scored events' times.</summary>
    /// <param name="entityEventTimes">Per entity, the times (Unix ms) of its scored events, in any order; entities without any are skipped.</param>
    public static EntityActivity Measure(IEnumerable<IEnumerable<long>> entityEventTimes)
    {
        var perEntity = new List<(int ActiveDays, long FirstMs, long LastMs)>();
        long windowFirst = long.MaxValue, windowLast = long.MinValue;
        var days = new HashSet<long>();
        foreach (var times in entityEventTimes)
        {
            days.Clear();
            long first = long.MaxValue, last = long.MinValue;
            foreach (long t in times)
            {
                days.Add(DayOf(t));
                first = Math.Min(first, t);
                last = Math.Max(last, t);
            }
            if (days.Count == 0) continue;
            perEntity.Add((days.Count, first, last));
            windowFirst = Math.Min(windowFirst, first);
            windowLast = Math.Max(windowLast, last);
        }
        if (perEntity.Count == 0) return new EntityActivity([], 0, []);
        double windowMs = windowLast - windowFirst;
        double windowDays = Math.Max(1, Math.Ceiling((windowMs + 1) / 86_400_000.0));
        var all = perEntity.GroupBy(e => (double)e.ActiveDays).Select(g => (g.Key, (long)g.Count())).OrderBy(g => g.Key).ToArray();
        var shortLived = perEntity.Where(e => e.LastMs - e.FirstMs < windowMs / 2)
            .GroupBy(e => (double)e.ActiveDays).Select(g => (g.Key, (long)g.Count())).OrderBy(g => g.Key).ToArray();
        return new EntityActivity(all, windowDays, shortLived);
    }

    /// <summary>
    /// The activity expected over a period of <paramref name="periodDays"/>: short-lived entities keep their
    /// active days; long-lived ones are active the same share of days as in the measured window (at least one,
    /// at most the period). Unmeasured activity (<see cref="EveryDay"/>) is every day of the period.
    /// </summary>
    public EntityActivity Over(double periodDays)
    {
        double period = Math.Max(1, periodDays);
        if (WindowDays <= 0) return EveryDay(period);
        var groups = new Dictionary<double, long>();
        void Add(double days, long count)
        {
            if (count > 0) groups[days] = groups.GetValueOrDefault(days) + count;
        }
        var remaining = _groups.ToDictionary(g => g.Days, g => g.Entities);
        foreach (var (days, count) in _shortLived)
        {
            Add(Math.Min(period, days), count);
            remaining[days] -= count;
        }
        foreach (var (days, count) in remaining) Add(Math.Clamp(days * period / WindowDays, 1, period), count);
        return new EntityActivity(groups.OrderBy(g => g.Key).Select(g => (g.Key, g.Value)).ToArray(), period, []);
    }

    /// <summary>
    /// The per-active-day alert rate p that alerts a share <paramref name="alertRate"/> of the entities over
    /// their active days: mean_i(1 - (1 - p)^A_i) = r, solved by bisection.
    /// </summary>
    public double PerActiveDayRate(double alertRate)
    {
        if (!(alertRate > 0 && alertRate < 1)) throw new ArgumentOutOfRangeException(nameof(alertRate), alertRate, "must be in (0, 1)");
        if (Entities == 0) return alertRate;
        double AlertedShare(double p)
        {
            double log = double.LogP1(-p), share = 0;
            foreach (var (days, count) in _groups) share += count * -double.ExpM1(days * log);
            return share / Entities;
        }
        // Every entity is active at least one day, so p <= r; alerted share rises with p.
        double lo = 0, hi = alertRate;
        for (int i = 0; i < 100 && hi - lo > alertRate * 1e-12; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (AlertedShare(mid) < alertRate) lo = mid;
            else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(WindowDays);
        WriteGroups(writer, _groups);
        WriteGroups(writer, _shortLived);
    }

    public static EntityActivity ReadFrom(BinaryReader reader)
    {
        double window = reader.ReadDouble();
        var groups = ReadGroups(reader);
        var shortLived = ReadGroups(reader);
        if (!(window >= 0)) throw new InvalidDataException("entity activity window is not valid");
        foreach (var (days, count) in shortLived)
            if (!groups.Any(g => g.Days == days && g.Entities >= count)) throw new InvalidDataException("entity activity groups are not consistent");
        return new EntityActivity(groups, window, shortLived);
    }

    /// <summary>The UTC day number of a Unix time in ms (floor, also before 1970).</summary>
    public static long DayOf(long timestampMs)
    {
        var (quotient, remainder) = Math.DivRem(timestampMs, 86_400_000L);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    private static void WriteGroups(BinaryWriter writer, (double Days, long Entities)[] groups)
    {
        writer.Write(groups.Length);
        foreach (var (days, count) in groups)
        {
            writer.Write(days);
            writer.Write(count);
        }
    }

    private static (double Days, long Entities)[] ReadGroups(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        if (length < 0 || length > 1 << 20) throw new InvalidDataException($"entity activity with {length} groups is not valid");
        var groups = new (double, long)[length];
        for (int i = 0; i < length; i++)
        {
            double days = reader.ReadDouble();
            long count = reader.ReadInt64();
            if (!(days >= 1) || count < 0) throw new InvalidDataException("entity activity group is not valid");
            groups[i] = (days, count);
        }
        return groups;
    }
}
