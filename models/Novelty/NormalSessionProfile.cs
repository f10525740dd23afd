using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Novelty;

/// <summary>
/// What normal training sessions look like, as counts: the event types seen, the transitions seen (with the
/// session start and the end as pseudo-types), the range of per-type counts, of session lengths and durations,
/// and the distinct bucketed per-type count vectors of closed sessions. A session ends at an end marker
/// (<see cref="SessionRule.EndMarker"/>), at a gap in event time longer than the split gap, and at the end of a
/// user's data.
/// </summary>
internal sealed class NormalSessionProfile
{
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<long, int> _transitions;
    private readonly HashSet<string> _vectorSet;

    private NormalSessionProfile(string[] types, long events, int sessions, int[] fromCounts, Dictionary<long, int> transitions,
        int[] maxCounts, int[] minCounts, int minLength, int maxLength, long minDurationMs, long maxDurationMs, byte[][] vectors)
    {
        Types = types;
        _index = new Dictionary<string, int>(types.Length, StringComparer.Ordinal);
        for (int t = 0; t < types.Length; t++) _index[types[t]] = t;
        EventCount = events;
        Sessions = sessions;
        FromCounts = fromCounts;
        _transitions = transitions;
        MaxCounts = maxCounts;
        MinCounts = minCounts;
        MinLength = minLength;
        MaxLength = maxLength;
        MinDurationMs = minDurationMs;
        MaxDurationMs = maxDurationMs;
        Vectors = vectors;
        _vectorSet = new HashSet<string>(vectors.Select(Key), StringComparer.Ordinal);
    }

    /// <summary>The event types seen in training.</summary>
    public string[] Types { get; }

    public long EventCount { get; }

    /// <summary>Closed training sessions.</summary>
    public int Sessions { get; }

    /// <summary>How often each type (and, last, the start pseudo-type) was followed by something.</summary>
    public int[] FromCounts { get; }

    public int[] MaxCounts { get; }

    public int[] MinCounts { get; }

    public int MinLength { get; }

    public int MaxLength { get; }

    public long MinDurationMs { get; }

    public long MaxDurationMs { get; }

    /// <summary>Distinct bucketed count vectors, most frequent first.</summary>
    public byte[][] Vectors { get; }

    /// <summary>The pseudo-type "session end" as a transition target.</summary>
    public int End => Types.Length;

    /// <summary>The type's index, or <see cref="SessionCounts.Unknown"/> for a type never seen in training.</summary>
    public int IndexOf(string type) => _index.TryGetValue(type, out int t) ? t : SessionCounts.Unknown;

    /// <summary>How often <paramref name="from"/> (a type, or <see cref="SessionCounts.Start"/>) was followed by
    /// <paramref name="to"/> (a type or <see cref="End"/>).</summary>
    public int TransitionCount(int from, int to) => _transitions.TryGetValue(TransitionKey(from, to), out int n) ? n : 0;

    public int FromCount(int from) => FromCounts[from == SessionCounts.Start ? Types.Length : from];

    /// <summary>The most frequent successors of a type (or the start), as (type or "&lt;end&gt;", share).</summary>
    public IReadOnlyList<(string Type, double Share)> Successors(int from, int top)
    {
        int total = FromCount(from);
        if (total == 0 || top <= 0) return [];
        var list = new List<(string, double)>();
        for (int to = 0; to <= Types.Length; to++)
        {
            int n = TransitionCount(from, to);
            if (n > 0) list.Add((to == End ? StreamDetect.Models.Events.EventTypes.SessionEnd : Types[to], (double)n / total));
        }
        return list.OrderByDescending(x => x.Item2).Take(top).ToArray();
    }

    /// <summary>The types after which training sessions ended most often, most frequent first.</summary>
    public IReadOnlyList<string> EndsAfter(int top) =>
        Enumerable.Range(0, Types.Length).Select(t => (Type: Types[t], Count: TransitionCount(t, End))).Where(x => x.Count > 0)
            .OrderByDescending(x => x.Count).ThenBy(x => x.Type, StringComparer.Ordinal).Take(top).Select(x => x.Type).ToArray();

    /// <summary>Whether the bucketed vector was seen; else the L1 distance (in buckets) to the nearest seen one, capped.</summary>
    public int VectorDistance(byte[] vector, int cap)
    {
        if (_vectorSet.Contains(Key(vector))) return 0;
        int best = cap;
        foreach (var seen in Vectors)
        {
            int d = 0;
            for (int t = 0; t < vector.Length && d < best; t++) d += Math.Abs(vector[t] - seen[t]);
            if (d < best) best = d;
            if (best <= 1) break;
        }
        return best;
    }

    /// <summary>A count's bucket: 0, 1, 2, 3-4, 5-8, 9-16, ... (capped at 31).</summary>
    public static byte Bucket(int count) =>
        count <= 0 ? (byte)0 : (byte)Math.Min(31, 1 + (count == 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(count - 1))));

    public byte[] BucketVector(int[] counts)
    {
        var vector = new byte[counts.Length];
        for (int t = 0; t < counts.Length; t++) vector[t] = Bucket(counts[t]);
        return vector;
    }

    private long TransitionKey(int from, int to) => (long)(from == SessionCounts.Start ? Types.Length : from) * (Types.Length + 1) + to;

    private static string Key(byte[] vector) => Convert.ToBase64String(vector);

    /// <summary>Learns the profile from users' windows entries (oldest first), one array per user.</summary>
    public static NormalSessionProfile Learn(IEnumerable<WindowEntry[]> users, long splitGapMs, int maxVectors)
    {
        var users_ = users as IReadOnlyCollection<WindowEntry[]> ?? users.ToArray();
        var types = users_.SelectMany(u => u).Where(e => !SessionRule.IsEndMarker(e)).Select(e => e.Type)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int t = 0; t < types.Length; t++) index[types[t]] = t;
        int v = types.Length;
        var fromCounts = new int[v + 1];
        var transitions = new Dictionary<long, int>();
        var maxCounts = new int[v];
        var minCounts = Enumerable.Repeat(int.MaxValue, v).ToArray();
        int minLength = int.MaxValue, maxLength = 0, sessions = 0;
        long minDuration = long.MaxValue, maxDuration = 0, events = 0;
        var vectorCounts = new Dictionary<string, (byte[] Vector, int Count)>(StringComparer.Ordinal);
        var counts = new int[v];
        int length = 0, previous = v; // v: the start
        long startMs = 0, lastMs = 0;

        void Count(int from, int to)
        {
            fromCounts[from]++;
            long key = (long)from * (v + 1) + to;
            transitions[key] = transitions.TryGetValue(key, out int n) ? n + 1 : 1;
        }

        void Close()
        {
            if (length == 0) return;
            Count(previous, v);
            sessions++;
            minLength = Math.Min(minLength, length);
            maxLength = Math.Max(maxLength, length);
            minDuration = Math.Min(minDuration, lastMs - startMs);
            maxDuration = Math.Max(maxDuration, lastMs - startMs);
            var vector = new byte[v];
            for (int t = 0; t < v; t++)
            {
                maxCounts[t] = Math.Max(maxCounts[t], counts[t]);
                minCounts[t] = Math.Min(minCounts[t], counts[t]);
                vector[t] = Bucket(counts[t]);
            }
            string key = Key(vector);
            vectorCounts[key] = vectorCounts.TryGetValue(key, out var seen) ? (seen.Vector, seen.Count + 1) : (vector, 1);
            Array.Clear(counts);
            length = 0;
            previous = v;
        }

        foreach (var user in users_)
        {
            foreach (var entry in user)
            {
                if (SessionRule.IsEndMarker(entry))
                {
                    Close();
                    continue;
                }
                if (length > 0 && entry.TimestampMs - lastMs > splitGapMs) Close();
                int type = index[entry.Type];
                if (length == 0) startMs = entry.TimestampMs;
                Count(previous, type);
                counts[type]++;
                length++;
                events++;
                previous = type;
                lastMs = entry.TimestampMs;
            }
            Close(); // the end of a user's data closes the open session
        }
        if (sessions == 0) throw new ArgumentException("the novelty detector needs at least one training session");
        for (int t = 0; t < v; t++) if (minCounts[t] == int.MaxValue) minCounts[t] = 0;
        var vectors = vectorCounts.Values.OrderByDescending(x => x.Count).ThenBy(x => Key(x.Vector), StringComparer.Ordinal)
            .Take(maxVectors).Select(x => x.Vector).ToArray();
        return new NormalSessionProfile(types, events, sessions, fromCounts, transitions, maxCounts, minCounts,
            minLength, maxLength, minDuration, maxDuration, vectors);
    }

    public void WriteTo(BinaryWriter w)
    {
        w.Write(Types.Length);
        foreach (string t in Types) w.Write(t);
        w.Write(EventCount);
        w.Write(Sessions);
        foreach (int n in FromCounts) w.Write(n);
        w.Write(_transitions.Count);
        foreach (var (key, n) in _transitions.OrderBy(x => x.Key))
        {
            w.Write(key);
            w.Write(n);
        }
        foreach (int n in MaxCounts) w.Write(n);
        foreach (int n in MinCounts) w.Write(n);
        w.Write(MinLength);
        w.Write(MaxLength);
        w.Write(MinDurationMs);
        w.Write(MaxDurationMs);
        w.Write(Vectors.Length);
        foreach (var vector in Vectors) w.Write(vector);
    }

    public static NormalSessionProfile ReadFrom(BinaryReader r)
    {
        int v = r.ReadInt32();
        if (v < 0 || v > 1 << 20) throw new InvalidDataException($"novelty profile with {v} event types is not valid");
        var types = new string[v];
        for (int t = 0; t < v; t++) types[t] = r.ReadString();
        long events = r.ReadInt64();
        int sessions = r.ReadInt32();
        var fromCounts = new int[v + 1];
        for (int t = 0; t <= v; t++) fromCounts[t] = r.ReadInt32();
        int pairs = r.ReadInt32();
        if (pairs < 0 || (long)pairs > (long)(v + 1) * (v + 1)) throw new InvalidDataException($"novelty profile with {pairs} transitions is not valid");
        var transitions = new Dictionary<long, int>(pairs);
        for (int k = 0; k < pairs; k++) transitions[r.ReadInt64()] = r.ReadInt32();
        var maxCounts = new int[v];
        for (int t = 0; t < v; t++) maxCounts[t] = r.ReadInt32();
        var minCounts = new int[v];
        for (int t = 0; t < v; t++) minCounts[t] = r.ReadInt32();
        int minLength = r.ReadInt32(), maxLength = r.ReadInt32();
        long minDuration = r.ReadInt64(), maxDuration = r.ReadInt64();
        int count = r.ReadInt32();
        if (count < 0 || count > 1 << 24) throw new InvalidDataException($"novelty profile with {count} count vectors is not valid");
        var vectors = new byte[count][];
        for (int k = 0; k < count; k++)
        {
            vectors[k] = r.ReadBytes(v);
            if (vectors[k].Length != v) throw new InvalidDataException("novelty profile: a count vector is cut short");
        }
        if (sessions < 1 || minLength > maxLength) throw new InvalidDataException("novelty profile: session ranges are not consistent");
        return new NormalSessionProfile(types, events, sessions, fromCounts, transitions, maxCounts, minCounts,
            minLength, maxLength, minDuration, maxDuration, vectors);
    }
}
