using System.Collections.Concurrent;
using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using TorchSharp;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// A real detector made slow on purpose: every batch waits <see cref="Delay"/> on the scorer thread before
/// the wrapped detector scores it. Records each batch's size and what was scored.
/// </summary>
internal sealed class SlowDetector(IAnomalyDetector inner) : IAnomalyDetector
{
    private long _delayTicks, _scoredRequests, _scoredEvents;

    /// <summary>Added to every batch (may be changed while the stream runs).</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    /// <summary>Called on the scorer thread for each batch after the delay, before it is scored (nothing of it counts as scored yet).</summary>
    public Action<IReadOnlyList<ScoringInput>>? BeforeScoring { get; set; }

    /// <summary>Sizes of the batches scored, in order.</summary>
    public ConcurrentQueue<int> BatchSizes { get; } = new();

    public long ScoredRequests => Interlocked.Read(ref _scoredRequests);

    /// <summary>New events scored (the sum of <see cref="ScoringInput.NewEvents"/>).</summary>
    public long ScoredEvents => Interlocked.Read(ref _scoredEvents);

    public ScoringOutput[] ScoreBatch(IReadOnlyList<ScoringInput> batch)
    {
        var delay = Delay;
        if (delay > TimeSpan.Zero) Thread.Sleep(delay);
        BeforeScoring?.Invoke(batch);
        var outputs = inner.ScoreBatch(batch);
        BatchSizes.Enqueue(batch.Count);
        Interlocked.Add(ref _scoredEvents, batch.Sum(b => (long)b.NewEvents));
        Interlocked.Add(ref _scoredRequests, batch.Count);
        return outputs;
    }

    public string Name => inner.Name;

    public string Version => inner.Version;

    public string StateKey => inner.StateKey;

    public bool IsStateful => inner.IsStateful;

    public torch.Device Device => inner.Device;

    public ScoreCalibration Calibration => inner.Calibration;

    public AlertThreshold Threshold => inner.Threshold;

    public void Save(string path) => inner.Save(path);

    public void Dispose() => inner.Dispose();
}
