using System.Globalization;

namespace StreamDetect.Models.Evaluation;

/// <summary>
/// Collects evaluated events per (UTC day, user) and turns them into <see cref="DayMetrics"/>: whether the user was
/// active that day, did anything anomalous (a label-1 event) and alerted (an event at or above its threshold). Whoever
/// scores decides what alerted, so a frozen evaluation (one threshold) and an online one (the threshold of the
/// version that scored each event) fill it alike. Memory is one entry per active user-day.
/// </summary>
public sealed class DailyTally
{
    private const long DayMs = 86_400_000;
    private const byte Active = 1, Alerted = 2, Anomalous = 4;

    private readonly long _dayZeroMs;
    private readonly Dictionary<long, byte> _cells = [];

    /// <param name="firstEventMs">The data's first event: day 0 starts at its midnight (UTC).</param>
    public DailyTally(long firstEventMs) => _dayZeroMs = firstEventMs - Mod(firstEventMs, DayMs);

    /// <summary>Adds one evaluated event of user <paramref name="user"/> (an index).</summary>
    public void Add(int user, long timestampMs, bool alerted, bool anomalous)
    {
        long day = (timestampMs - _dayZeroMs) / DayMs - (timestampMs < _dayZeroMs ? 1 : 0);
        long key = (day << 32) | (uint)user;
        byte flags = _cells.GetValueOrDefault(key);
        _cells[key] = (byte)(flags | Active | (alerted ? Alerted : 0) | (anomalous ? Anomalous : 0));
    }

    /// <summary>
    /// One row per day with evaluated events, in day order. A user-day with an anomalous event counts toward recall;
    /// any other user-day of a user for whom <paramref name="isNormal"/> holds counts toward the normal alert rate
    /// (user-days of anomalous users outside their episodes count for neither, as in the period's figures).
    /// </summary>
    public IReadOnlyList<DayMetrics> Days(Func<int, bool> isNormal)
    {
        var rows = new SortedDictionary<long, int[]>();
        foreach (var (key, flags) in _cells)
        {
            long day = key >> 32;
            int user = (int)(uint)key;
            if (!rows.TryGetValue(day, out int[]? counts)) rows[day] = counts = new int[4];
            bool alerted = (flags & Alerted) != 0;
            if ((flags & Anomalous) != 0)
            {
                counts[2]++;
                if (alerted) counts[3]++;
            }
            else if (isNormal(user))
            {
                counts[0]++;
                if (alerted) counts[1]++;
            }
        }
        return rows.Select(row => new DayMetrics((int)row.Key,
                DateTime.UnixEpoch.AddMilliseconds(_dayZeroMs + row.Key * DayMs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                row.Value[0], row.Value[1], row.Value[2], row.Value[3]))
            .ToArray();
    }

    private static long Mod(long value, long modulus) => ((value % modulus) + modulus) % modulus;
}
