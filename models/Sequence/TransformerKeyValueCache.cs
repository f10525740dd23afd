namespace StreamDetect.Models.Sequence;

/// <summary>
/// One user's cached keys and values of the causal Transformer: what lets a new event cost one step of the
/// network instead of a re-run of its window.
/// <para>
/// Positions do not shift as the user's events go by: the user's events (counted from the user's first, index 0)
/// are cut into blocks of L = max-positions events, each read by the network as one training chunk is (the begin
/// token at position 0, then the block's events), so a row's keys and values, once computed, never change.
/// There are two phases of blocks: phase 0 starts a block at every multiple of L, phase 1 at every multiple of L
/// plus L/2. Every event belongs to one block of each phase and is judged in the one where it has the most
/// context (<see cref="JudgingPhase"/>): its first L events in phase 0's first block (from the user's first event),
/// every later one at a position of L/2..L-1, i.e. with L/2 to L-1 events of its block before it.
/// </para>
/// <para>
/// Per phase the cache holds the rows of the current block computed so far: the prediction for the event at
/// block position p comes from row p (the begin token for p = 0, else the event before it), which attends to rows
/// 0..p; so when an event arrives, the row of the event before it is computed (its keys and values appended, for
/// every layer) and predicts it. The begin token's row is the same for every block and user and is not kept.
/// Kept per phase: how many of the block's events were seen, and rows 1..seen-1 (per row and layer: key, then
/// value, each <c>width</c> floats, head-major).
/// </para>
/// <para>
/// A block whose start lies before the user's window (a state rebuilt from a window that is too short) is
/// "truncated": it starts at the window's first entry instead, so its positions are not the ones a full pass
/// gives; events judged in it are approximations (see <see cref="Truncated"/>).
/// </para>
/// </summary>
internal sealed class TransformerKeyValueCache
{
    public const int Phases = 2;

    // Per phase: the rows kept from the state read (read in place, never copied: the state array is not changed),
    // then the rows added since, in a buffer that grows as needed.
    private readonly float[]?[] _kept = new float[]?[Phases];
    private readonly int[] _keptOffset = new int[Phases];
    private readonly int[] _keptRows = new int[Phases];
    private readonly float[][] _added = [[], []];
    private readonly int[] _seen = new int[Phases];
    private readonly bool[] _truncated = new bool[Phases];

    public TransformerKeyValueCache(int length, int layers, int width)
    {
        Length = length;
        Layers = layers;
        Width = width;
        RowFloats = layers * 2 * width;
    }

    /// <summary>Block length L (max-positions).</summary>
    public int Length { get; }

    public int Layers { get; }

    public int Width { get; }

    /// <summary>Floats per cached row: a key and a value of <see cref="Width"/> for every layer.</summary>
    public int RowFloats { get; }

    /// <summary>Position of the user's event <paramref name="index"/> in its block of <paramref name="phase"/>; -1
    /// when that phase has no block yet (phase 1 before event L/2).</summary>
    public static int NaturalPosition(long index, int phase, int length)
    {
        if (phase == 0) return (int)(index % length);
        long half = length / 2;
        return index < half ? -1 : (int)((index - half) % length);
    }

    /// <summary>The phase whose block judges the user's event <paramref name="index"/>: phase 0 for the first L
    /// events (its block starts at the user's first event), else the phase in which the event is at position
    /// L/2 or later.</summary>
    public static int JudgingPhase(long index, int length) => index < length || index % length >= length / 2 ? 0 : 1;

    /// <summary>Events of the current block of <paramref name="phase"/> seen so far: the next event's position.</summary>
    public int Seen(int phase) => _seen[phase];

    /// <summary>Whether the current block of <paramref name="phase"/> starts at the window's first entry rather than
    /// at its real start (rebuilt from a window that does not reach back to it).</summary>
    public bool Truncated(int phase) => _truncated[phase];

    /// <summary>
    /// Prepares <paramref name="phase"/> for the user's event <paramref name="index"/>: starts a new block when the
    /// event is the first of one. Returns the event's position in the cached block (-1: the phase has no block yet).
    /// </summary>
    public int Enter(int phase, long index)
    {
        int natural = NaturalPosition(index, phase, Length);
        if (natural < 0) return -1;
        if (natural == 0) Clear(phase, truncated: false);
        return _seen[phase];
    }

    /// <summary>Starts a truncated block of <paramref name="phase"/> at the event <paramref name="index"/> (the first
    /// of a window whose earlier events are gone) when that event is not the first of its block.</summary>
    public void StartAt(int phase, long index)
    {
        if (NaturalPosition(index, phase, Length) > 0) Clear(phase, truncated: true);
    }

    /// <summary>Where cached row <paramref name="row"/> (1..Seen-1, or Seen once <see cref="NewRow"/> wrote it) of
    /// <paramref name="phase"/> starts: per layer a key, then a value, each <see cref="Width"/> floats.</summary>
    public (float[] Array, int Offset) RowAt(int phase, int row)
    {
        int kept = _keptRows[phase];
        return row <= kept
            ? (_kept[phase]!, _keptOffset[phase] + (row - 1) * RowFloats)
            : (_added[phase], (row - kept - 1) * RowFloats);
    }

    /// <summary>Where the row computed for the event at position <c>Seen(phase)</c> (at least 1) goes; it is part of
    /// the cache from then on (<see cref="RowAt"/> finds it).</summary>
    public (float[] Array, int Offset) NewRow(int phase)
    {
        int row = _seen[phase], index = row - _keptRows[phase] - 1;
        if ((index + 1) * RowFloats > _added[phase].Length)
            Array.Resize(ref _added[phase], Math.Max(index + 1, Math.Min(2 * (index + 1), Length - 1)) * RowFloats);
        return (_added[phase], index * RowFloats);
    }

    /// <summary>Counts the event just judged or stepped in <paramref name="phase"/> as seen.</summary>
    public void Advance(int phase) => _seen[phase]++;

    /// <summary>Floats the cache takes in a state whose next event is the user's event <paramref name="next"/>.</summary>
    public int StateLength(long next)
    {
        int length = Phases;
        for (int phase = 0; phase < Phases; phase++) length += KeptRows(phase, next) * RowFloats;
        return length;
    }

    /// <summary>
    /// Writes the cache for a state whose next event is the user's event <paramref name="next"/>: the seen count of
    /// each phase (0 where that event starts a new block), then each phase's rows 1..seen-1.
    /// </summary>
    public void WriteTo(Span<float> destination, long next)
    {
        int at = Phases;
        for (int phase = 0; phase < Phases; phase++)
        {
            int rows = KeptRows(phase, next);
            destination[phase] = KeepsSeen(phase, next) ? _seen[phase] : 0;
            int fromKept = Math.Min(rows, _keptRows[phase]);
            if (fromKept > 0) _kept[phase].AsSpan(_keptOffset[phase], fromKept * RowFloats).CopyTo(destination[at..]);
            at += fromKept * RowFloats;
            int added = rows - fromKept;
            _added[phase].AsSpan(0, added * RowFloats).CopyTo(destination[at..]);
            at += added * RowFloats;
        }
    }

    /// <summary>
    /// Reads a cache written by <see cref="WriteTo"/> at <paramref name="offset"/> of <paramref name="values"/> (to
    /// the end) for the next event <paramref name="next"/>, in place: the array must not change while this cache is
    /// used. False (the cache must be rebuilt) when the values do not fit that event: a seen count out of range or
    /// lengths that disagree. Blocks read back count as not truncated: a state is only kept for events that were
    /// all new, i.e. judged as well as the window allowed.
    /// </summary>
    public bool TryRead(float[] values, int offset, long next)
    {
        if (values.Length - offset < Phases) return false;
        int at = offset + Phases;
        for (int phase = 0; phase < Phases; phase++)
        {
            float seen = values[offset + phase];
            int natural = NaturalPosition(next, phase, Length);
            if (seen != MathF.Floor(seen) || seen < 0 || seen > Math.Max(natural, 0)) return false;
            int rows = Math.Max(0, (int)seen - 1);
            if (at + rows * RowFloats > values.Length) return false;
            _seen[phase] = (int)seen;
            _truncated[phase] = false;
            _kept[phase] = values;
            _keptOffset[phase] = at;
            _keptRows[phase] = rows;
            at += rows * RowFloats;
        }
        return at == values.Length;
    }

    private void Clear(int phase, bool truncated)
    {
        _seen[phase] = 0;
        _truncated[phase] = truncated;
        _kept[phase] = null;
        _keptRows[phase] = 0;
    }

    /// <summary>Whether the seen count of <paramref name="phase"/> still matters for the event <paramref name="next"/>
    /// (it does not when that event starts a new block or the phase has none yet).</summary>
    private bool KeepsSeen(int phase, long next) => NaturalPosition(next, phase, Length) > 0;

    private int KeptRows(int phase, long next) => KeepsSeen(phase, next) ? Math.Max(0, _seen[phase] - 1) : 0;
}
