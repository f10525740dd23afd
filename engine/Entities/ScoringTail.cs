using System.Buffers;
using System.Runtime.InteropServices;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Entities;

/// <summary>
/// A user's events that are persisted but not yet confirmed scored, with what scoring them needs exactly
/// as it was when each arrived: the feature vector as of the event, its order key and label, and the
/// events before the first of them (the context a sequence model and an alert's window summary read).
/// Kept until the scorer's settlement confirms them, and in snapshots, so that after a crash they are
/// scored again exactly as they would have been. Its feature rows live in an array rented from the shared pool
/// (a tail's rows are rewritten for every event, and tails come and go with each user's requests); the owner gives
/// it back with <see cref="Release"/> when it drops the tail, or keeps the emptied tail, arrays and all, for another
/// user's next unscored events (<see cref="Recycle"/>, <see cref="Restart"/>, <see cref="SpareScoringTails"/>).
/// </summary>
public sealed class ScoringTail
{
    private readonly List<WindowEntry> _entries;
    private readonly List<long> _keys;
    private readonly List<sbyte> _labels;
    // The device and IP of each unscored event, for the alert's context: kept only until the event is scored.
    private readonly List<string?> _devices;
    private readonly List<string?> _ips;
    private float[] _features;
    private WindowEntry[] _context;
    private readonly int _windowSize;
    private bool _released;

    /// <param name="context">The user's window before the first unscored event (at most <paramref name="windowSize"/> events).</param>
    /// <param name="firstEventIndex">The user's event number (1 = first) of the first unscored event.</param>
    /// <param name="expected">How many unscored entries the tail is sized for at first (it grows as needed): 1 for a
    /// session closed by the watermark, whose tail is its end marker alone until it is scored.</param>
    public ScoringTail(WindowEntry[] context, long firstEventIndex, int windowSize, int expected = 4)
    {
        _windowSize = windowSize;
        _context = context.Length > windowSize ? context[^windowSize..] : context;
        FirstEventIndex = firstEventIndex;
        expected = Math.Max(1, expected);
        _features = ArrayPool<float>.Shared.Rent(FeatureSchema.Count * expected);
        _entries = new List<WindowEntry>(expected);
        _keys = new List<long>(expected);
        _labels = new List<sbyte>(expected);
        _devices = new List<string?>(expected);
        _ips = new List<string?>(expected);
    }

    /// <summary>The user's event number of the first unscored event.</summary>
    public long FirstEventIndex { get; private set; }

    /// <summary>Unscored events.</summary>
    public int Count => _entries.Count;

    /// <summary>The events before the first unscored one, oldest first.</summary>
    public IReadOnlyList<WindowEntry> Context => _context;

    public IReadOnlyList<WindowEntry> Entries => _entries;

    public IReadOnlyList<long> Keys => _keys;

    public IReadOnlyList<sbyte> Labels => _labels;

    public IReadOnlyList<string?> Devices => _devices;

    public IReadOnlyList<string?> Ips => _ips;

    /// <summary>Earliest receive time (Stopwatch ticks) among the unscored events that arrived live; 0 when unknown.</summary>
    public long FirstReceivedTicks { get; private set; }

    /// <summary>Feature rows, row-major (Count x <see cref="FeatureSchema.Count"/>).</summary>
    public ReadOnlySpan<float> Features => _features.AsSpan(0, _entries.Count * FeatureSchema.Count);

    /// <summary>Adds the user's newest event (already folded into <paramref name="behavior"/>).</summary>
    public void Add(UserBehaviorState behavior, long orderKey, sbyte label, long receivedTicks, string? device = null, string? ip = null)
    {
        int f = FeatureSchema.Count;
        if ((_entries.Count + 1) * f > _features.Length) Grow((_entries.Count + 1) * f);
        behavior.WriteFeatures(_features.AsSpan(_entries.Count * f, f));
        _entries.Add(behavior.Window[behavior.Window.Count - 1]);
        _keys.Add(orderKey);
        _labels.Add(label);
        _devices.Add(device);
        _ips.Add(ip);
        if (receivedTicks != 0 && (FirstReceivedTicks == 0 || receivedTicks < FirstReceivedTicks)) FirstReceivedTicks = receivedTicks;
    }

    /// <summary>Adds an event read back from a snapshot.</summary>
    internal void AddRestored(WindowEntry entry, ReadOnlySpan<float> features, long orderKey, sbyte label, string? device = null, string? ip = null)
    {
        int f = FeatureSchema.Count;
        if ((_entries.Count + 1) * f > _features.Length) Grow((_entries.Count + 1) * f);
        features.CopyTo(_features.AsSpan(_entries.Count * f, f));
        _entries.Add(entry);
        _keys.Add(orderKey);
        _labels.Add(label);
        _devices.Add(device);
        _ips.Add(ip);
    }

    /// <summary>A bigger pooled array for the rows (at least twice the current one), the old one given back.</summary>
    private void Grow(int needed)
    {
        ObjectDisposedException.ThrowIf(_released, this);
        int length = Math.Max(_features.Length * 2, needed);
        // A spare tail of the partition with a big enough array trades it for this one (the pool missed most of these).
        if (Spares?.TradeUp(_features, length) is { } traded)
        {
            _features.AsSpan(0, _entries.Count * FeatureSchema.Count).CopyTo(traded);
            _features = traded;
            return;
        }
        var bigger = ArrayPool<float>.Shared.Rent(length);
        _features.AsSpan(0, _entries.Count * FeatureSchema.Count).CopyTo(bigger);
        ArrayPool<float>.Shared.Return(_features);
        _features = bigger;
    }

    /// <summary>The partition's spare tails this tail came from (<see cref="SpareScoringTails.Take"/>), or null.</summary>
    internal SpareScoringTails? Spares { get; set; }

    /// <summary>The rows' array's length (floats).</summary>
    internal int RowsCapacity => _features.Length;

    /// <summary>An emptied spare's rows' array is traded for <paramref name="other"/> (see <see cref="Grow"/>); returns its own.</summary>
    internal float[] TradeRows(float[] other)
    {
        if (_released || _entries.Count > 0) throw new InvalidOperationException("only an emptied spare trades its rows");
        var own = _features;
        _features = other;
        return own;
    }

    /// <summary>
    /// Empties the tail so that another run of unscored events can use it (<see cref="Restart"/>), its lists, context array
    /// and rows' array kept (<see cref="SpareScoringTails"/>). Returns false, releasing it instead (<see cref="Release"/>),
    /// when its rows' array grew past <paramref name="maxRows"/> rows: a spare does not hold on to a burst's memory.
    /// </summary>
    internal bool Recycle(int maxRows)
    {
        if (_released || _features.Length > maxRows * FeatureSchema.Count)
        {
            Release();
            return false;
        }
        _entries.Clear();
        _keys.Clear();
        _labels.Clear();
        _devices.Clear();
        _ips.Clear();
        FirstReceivedTicks = 0;
        return true;
    }

    /// <summary>
    /// A recycled tail (<see cref="Recycle"/>) starts anew: <paramref name="window"/> (the user's window before the first
    /// unscored event) becomes its context, <paramref name="firstEventIndex"/> the user's event number of that event. As
    /// a new tail made from the same window, without allocating when the context keeps its length.
    /// </summary>
    internal void Restart(EventWindow window, long firstEventIndex)
    {
        if (_released || _entries.Count > 0) throw new InvalidOperationException("only an emptied tail starts anew");
        int length = Math.Min(window.Count, _windowSize);
        if (_context.Length != length) _context = new WindowEntry[length];
        if (window.Count == length)
        {
            window.CopyTo(_context);
        }
        else
        {
            for (int i = 0; i < length; i++) _context[i] = window[window.Count - length + i];
        }
        FirstEventIndex = firstEventIndex;
        FirstReceivedTicks = 0;
    }

    /// <summary>
    /// The owner drops the tail: its rows' array goes back to the shared pool. The tail must not be used afterwards
    /// (its rows read as empty, adding to it throws).
    /// </summary>
    public void Release()
    {
        if (_released) return;
        _released = true;
        ArrayPool<float>.Shared.Return(_features);
        _features = [];
        _entries.Clear();
        _keys.Clear();
        _labels.Clear();
        _devices.Clear();
        _ips.Clear();
    }

    /// <summary>
    /// The events up to the user's event number <paramref name="scoredThrough"/> are scored: they leave the
    /// tail and become context. Returns whether unscored events remain; when none does, the tail is left as it was
    /// (its owner drops it).
    /// </summary>
    public bool Confirm(long scoredThrough)
    {
        int drop = (int)Math.Clamp(scoredThrough - FirstEventIndex + 1, 0, _entries.Count);
        if (drop == 0) return _entries.Count > 0;
        // Everything is scored: the owner drops the tail, so its context is not rebuilt (the common case: one request
        // per user in flight, and a user idle-closed by the watermark has only its end marker).
        if (drop == _entries.Count) return false;
        int keep = Math.Min(_windowSize, _context.Length + drop);
        // The context array is the tail's own (never handed out but as a read-only list): once the window is full it
        // keeps its length, so it is shifted in place.
        var context = keep == _context.Length ? _context : new WindowEntry[keep];
        int fromEntries = Math.Min(drop, keep);
        int fromContext = keep - fromEntries;
        Array.Copy(_context, _context.Length - fromContext, context, 0, fromContext);
        for (int i = 0; i < fromEntries; i++) context[fromContext + i] = _entries[drop - fromEntries + i];
        _context = context;
        int f = FeatureSchema.Count;
        Array.Copy(_features, drop * f, _features, 0, (_entries.Count - drop) * f);
        _entries.RemoveRange(0, drop);
        _keys.RemoveRange(0, drop);
        _labels.RemoveRange(0, drop);
        _devices.RemoveRange(0, drop);
        _ips.RemoveRange(0, drop);
        FirstEventIndex += drop;
        FirstReceivedTicks = 0;
        return _entries.Count > 0;
    }

    // The arrays a request carries are rented from ScoringRequestArrays' pools (exact lengths, every element written);
    // the scoring loop gives them back once it is done with the request.

    /// <summary>The window a request for the first <paramref name="count"/> unscored events carries: the context, then those events.</summary>
    public WindowEntry[] RequestWindow(int count)
    {
        var window = ScoringRequestArrays.Windows.Rent(_context.Length + count);
        _context.CopyTo(window, 0);
        CollectionsMarshal.AsSpan(_entries)[..count].CopyTo(window.AsSpan(_context.Length));
        return window;
    }

    public float[] RequestFeatures(int count) => ScoringRequestArrays.Features.RentCopyOf(Features[..(count * FeatureSchema.Count)]);

    public long[] RequestKeys(int count) => ScoringRequestArrays.Keys.RentCopyOf(CollectionsMarshal.AsSpan(_keys)[..count]);

    /// <summary>The devices of the first <paramref name="count"/> unscored events, or null when none of them has one.</summary>
    public string?[]? RequestDevices(int count) => FirstOrNull(_devices, count);

    /// <summary>The IP addresses of the first <paramref name="count"/> unscored events, or null when none of them has one.</summary>
    public string?[]? RequestIps(int count) => FirstOrNull(_ips, count);

    private static string?[]? FirstOrNull(List<string?> values, int count)
    {
        for (int i = 0; i < count; i++)
            if (values[i] is not null) return ScoringRequestArrays.Strings.RentCopyOf(CollectionsMarshal.AsSpan(values)[..count]);
        return null;
    }

    /// <summary>The labels of the first <paramref name="count"/> unscored events, or null when none of them is labelled.</summary>
    public sbyte[]? RequestLabels(int count)
    {
        for (int i = 0; i < count; i++)
            if (_labels[i] >= 0) return ScoringRequestArrays.Labels.RentCopyOf(CollectionsMarshal.AsSpan(_labels)[..count]);
        return null;
    }
}
