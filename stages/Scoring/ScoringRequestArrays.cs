using StreamDetect.Models.Features;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// The arrays a partition rented from this class's pools to build one <see cref="ScoringRequest"/>
/// (<see cref="ScoringRequest.Pooled"/>), given back once by the stage that reads the request last
/// (<see cref="Alerts.AlertRelease"/>, when the scoring loop has no other reader that keeps requests: no feature dump,
/// no online learning). Before this, the window, feature rows and order keys copied into each request were the
/// end-to-end path's largest allocation (some 600 B per event). Requests of more than <see cref="MaxPooledEvents"/>
/// events, or windows longer than <see cref="MaxPooledWindow"/>, are allocated as before.
/// </summary>
public sealed class ScoringRequestArrays
{
    public const int MaxPooledEvents = 64;

    public const int MaxPooledWindow = 128;

    private readonly WindowEntry[] _window;
    private readonly float[] _features;
    private readonly long[] _keys;
    private readonly sbyte[]? _labels;
    private readonly string?[]? _devices;
    private readonly string?[]? _ips;
    private int _returned;

    /// <summary>The arrays of one request, all rented from the pools below (the nullable ones may be null).</summary>
    public ScoringRequestArrays(WindowEntry[] window, float[] features, long[] keys, sbyte[]? labels, string?[]? devices, string?[]? ips)
    {
        _window = window;
        _features = features;
        _keys = keys;
        _labels = labels;
        _devices = devices;
        _ips = ips;
    }

    public static ExactLengthArrayPool<WindowEntry> Windows { get; } = new(MaxPooledWindow);

    public static ExactLengthArrayPool<float> Features { get; } = new(MaxPooledEvents * FeatureSchema.Count);

    public static ExactLengthArrayPool<long> Keys { get; } = new(MaxPooledEvents);

    public static ExactLengthArrayPool<sbyte> Labels { get; } = new(MaxPooledEvents);

    /// <summary>Devices and IP addresses.</summary>
    public static ExactLengthArrayPool<string?> Strings { get; } = new(MaxPooledEvents);

    /// <summary>Whether <see cref="Return"/> was called.</summary>
    public bool IsReturned => Volatile.Read(ref _returned) != 0;

    /// <summary>
    /// Gives the arrays back to the pools; only the first call does (a request copied with <c>with</c> shares this
    /// object). Nothing may read the request, nor a copy of it sharing its arrays, afterwards.
    /// </summary>
    public void Return()
    {
        if (Interlocked.Exchange(ref _returned, 1) != 0) return;
        Windows.Return(_window);
        Features.Return(_features);
        Keys.Return(_keys);
        if (_labels is not null) Labels.Return(_labels);
        if (_devices is not null) Strings.Return(_devices);
        if (_ips is not null) Strings.Return(_ips);
    }
}
