namespace StreamDetect.Models.Features;

/// <summary>The last N events of one user, oldest first; a fixed-capacity ring buffer.</summary>
public sealed class EventWindow
{
    private readonly WindowEntry[] _entries;
    private int _start;

    public EventWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _entries = new WindowEntry[capacity];
    }

    public int Capacity => _entries.Length;

    public int Count { get; private set; }

    /// <summary>The i-th entry, 0 = oldest kept.</summary>
    public WindowEntry this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
            return _entries[(_start + index) % _entries.Length];
        }
    }

    /// <summary>The newest entry.</summary>
    public WindowEntry Last => this[Count - 1];

    public void Add(in WindowEntry entry)
    {
        if (Count < _entries.Length)
        {
            _entries[(_start + Count) % _entries.Length] = entry;
            Count++;
        }
        else
        {
            _entries[_start] = entry;
            _start = (_start + 1) % _entries.Length;
        }
    }

    /// <summary>
    /// The entries in place, oldest first, as two runs of the ring (<paramref name="newer"/> is empty until it wraps):
    /// reading them copies nothing.
    /// </summary>
    public void Segments(out ReadOnlySpan<WindowEntry> older, out ReadOnlySpan<WindowEntry> newer)
    {
        int firstPart = Math.Min(Count, _entries.Length - _start);
        older = _entries.AsSpan(_start, firstPart);
        newer = _entries.AsSpan(0, Count - firstPart);
    }

    public void Clear()
    {
        _start = 0;
        Count = 0;
    }

    /// <summary>Copies the entries, oldest first, into <paramref name="destination"/> (at least <see cref="Count"/> long).</summary>
    public void CopyTo(Span<WindowEntry> destination)
    {
        int firstPart = Math.Min(Count, _entries.Length - _start);
        _entries.AsSpan(_start, firstPart).CopyTo(destination);
        _entries.AsSpan(0, Count - firstPart).CopyTo(destination[firstPart..]);
    }

    /// <summary>Copies the entries, oldest first, into a new array.</summary>
    public WindowEntry[] ToArray()
    {
        var result = new WindowEntry[Count];
        CopyTo(result);
        return result;
    }
}
