using System.Collections.Concurrent;
using System.Diagnostics;
using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Models.Detection;
using TorchSharp;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Runs a detector over micro-batches: one <see cref="IAnomalyDetector.ScoreBatch"/> (one forward pass)
/// per batch, on one dedicated thread (TorchSharp work never blocks the actor dispatchers, and a detector
/// instance sees one batch at a time). It keeps nothing per user: every request carries the model state
/// its user's partition holds, which is always the state after the user's previous event (a user has one
/// request in flight at a time). The detector can be swapped between batches (hot swap of a new model version).
/// </summary>
public sealed class Scorer : IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private IAnomalyDetector _detector;
    private long _batches, _requests, _events, _scoringTicks;

    // Stopwatch timestamp at which the forward pass now running started; 0 while none runs.
    private long _busySince;

    public Scorer(IAnomalyDetector detector, ScorerSettings settings)
    {
        _detector = detector;
        _thread = new Thread(Loop) { IsBackground = true, Name = "scorer" };
        _thread.Start();
        Run(() => torch.set_num_threads(settings.EffectiveTorchThreads)).Wait();
    }

    /// <summary>The detector now scoring.</summary>
    public IAnomalyDetector Detector => Volatile.Read(ref _detector);

    public long Batches => Interlocked.Read(ref _batches);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Events scored (a request holds one or more).</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Time spent in forward passes.</summary>
    public TimeSpan ScoringTime => TimeSpan.FromTicks(Interlocked.Read(ref _scoringTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

    /// <summary>
    /// Time spent in forward passes up to <paramref name="nowTicks"/> (a <see cref="Stopwatch"/> timestamp), the
    /// pass running now included as far as it got: sampled twice, the difference over the wall time between
    /// is the scorer's busy share, which a long pass does not push above 1.
    /// </summary>
    public TimeSpan BusyTime(long nowTicks)
    {
        long since = Interlocked.Read(ref _busySince);
        long done = Interlocked.Read(ref _scoringTicks);
        // A pass that ended between the two reads is in both: counted once.
        if (since != 0 && Interlocked.Read(ref _busySince) == since) done += Math.Max(0, nowTicks - since);
        return TimeSpan.FromTicks(done * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
    }

    /// <summary>The scorer as a stream stage: one batch in flight, in order.</summary>
    public Flow<IReadOnlyList<ScoringRequest>, ScoredBatch, NotUsed> Flow() =>
        Akka.Streams.Dsl.Flow.Create<IReadOnlyList<ScoringRequest>>().SelectAsync(1, ScoreAsync).Named("scorer");

    /// <summary>Scores a batch on the scorer thread.</summary>
    public Task<ScoredBatch> ScoreAsync(IReadOnlyList<ScoringRequest> batch) => Run(() => Score(batch));

    /// <summary>Replaces the detector; batches already started finish with the old one. Returns the old one (the caller disposes it).</summary>
    public Task<IAnomalyDetector> SwapAsync(IAnomalyDetector detector) => Run(() =>
    {
        var old = _detector;
        Volatile.Write(ref _detector, detector);
        return old;
    });

    /// <summary>One forward pass per batch; one verdict per new event of every request.</summary>
    private ScoredBatch Score(IReadOnlyList<ScoringRequest> batch)
    {
        var detector = _detector;
        var inputs = new ScoringInput[batch.Count];
        long events = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            var r = batch[i];
            inputs[i] = new ScoringInput(r.UserId, r.Window, r.NewEvents, r.Features, r.State is { } s && s.ModelKey == detector.StateKey ? s : null, r.EventCount);
            events += r.NewEvents;
        }
        long start = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _busySince, start);
        IReadOnlyList<ScoringOutput> outputs;
        long elapsed;
        try
        {
            outputs = detector.ScoreBatch(inputs);
        }
        finally
        {
            elapsed = Stopwatch.GetTimestamp() - start;
            Interlocked.Add(ref _scoringTicks, elapsed);
            Interlocked.Exchange(ref _busySince, 0);
        }
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, batch.Count);
        Interlocked.Add(ref _events, events);
        return new ScoredBatch(batch, outputs, detector.StateKey, TimeSpan.FromTicks(elapsed * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
    }

    private Task<T> Run<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_work.TryAdd(() =>
            {
                try
                {
                    done.TrySetResult(work());
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            }))
        {
            done.TrySetException(new ObjectDisposedException(nameof(Scorer)));
        }
        return done.Task;
    }

    private Task Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    private void Loop()
    {
        foreach (var action in _work.GetConsumingEnumerable()) action();
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
