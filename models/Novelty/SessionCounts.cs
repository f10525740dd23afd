namespace StreamDetect.Models.Novelty;

/// <summary>
/// The open session as the novelty detector follows it: per-type counts (over the training vocabulary), length,
/// the previous type, start and last event time, whether its start is known (false when it began before the
/// window it was rebuilt from: counts and length are then lower bounds), and the novelty evidence so far.
/// Kept between batches as the user's model state (<see cref="WriteTo"/>, <see cref="TryRead"/>).
/// </summary>
internal sealed class SessionCounts
{
    /// <summary><see cref="PreviousType"/> before a session's first event (the start pseudo-type).</summary>
    public const int Start = -1;

    /// <summary><see cref="PreviousType"/> after an event of a type never seen in training.</summary>
    public const int Unknown = -2;

    /// <summary><see cref="PreviousType"/> when the session began before the window it was rebuilt from.</summary>
    public const int Unseen = -3;

    private const int Header = 8;

    public SessionCounts(int types) => Counts = new int[types];

    public int[] Counts { get; }

    public int Length { get; set; }

    public int PreviousType { get; set; } = Start;

    public long StartMs { get; set; }

    public long LastMs { get; set; }

    public bool StartKnown { get; set; } = true;

    /// <summary>The session's novelty evidence so far (kept as a float, as the state stores it).</summary>
    public float Evidence { get; set; }

    public bool IsOpen => Length > 0;

    /// <summary>Back to no open session (after a close); the next event starts one, whose start is known.</summary>
    public void Reset()
    {
        Array.Clear(Counts);
        Length = 0;
        PreviousType = Start;
        StartMs = LastMs = 0;
        StartKnown = true;
        Evidence = 0;
    }

    public static int StateLength(int types) => Header + types;

    /// <summary>Makes this a copy of <paramref name="other"/> (same vocabulary).</summary>
    public void CopyFrom(SessionCounts other)
    {
        other.Counts.CopyTo(Counts, 0);
        Length = other.Length;
        PreviousType = other.PreviousType;
        StartMs = other.StartMs;
        LastMs = other.LastMs;
        StartKnown = other.StartKnown;
        Evidence = other.Evidence;
    }

    public float[] WriteTo()
    {
        var values = new float[Header + Counts.Length];
        values[0] = Evidence;
        values[1] = Length;
        values[2] = PreviousType;
        (values[3], values[4]) = Split(StartMs);
        (values[5], values[6]) = Split(LastMs);
        values[7] = StartKnown ? 1 : 0;
        for (int t = 0; t < Counts.Length; t++) values[Header + t] = Counts[t];
        return values;
    }

    /// <summary>Reads a state written by <see cref="WriteTo"/>; false when its length does not fit the vocabulary.</summary>
    public bool TryRead(float[] values)
    {
        if (values.Length != Header + Counts.Length) return false;
        Evidence = values[0];
        Length = (int)values[1];
        PreviousType = (int)values[2];
        StartMs = Join(values[3], values[4]);
        LastMs = Join(values[5], values[6]);
        StartKnown = values[7] != 0;
        for (int t = 0; t < Counts.Length; t++) Counts[t] = (int)values[Header + t];
        return true;
    }

    // A float holds integers exactly up to 2^24: milliseconds since the epoch travel as two such halves.
    private static (float High, float Low) Split(long ms) => ((float)(ms >> 24), (float)(ms & 0xFFFFFF));

    private static long Join(float high, float low) => ((long)high << 24) | (long)low;
}
