using System.Collections.Concurrent;
using System.Diagnostics;
using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using TorchSharp;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Runs a detector over micro-batches: one <see cref="IAnomalyDetector.ScoreBatch"/> (one forward
/// pass) per batch, on one dedicated thread (TorchSharp work never blocks the actor dispatchers, and a
/// detector instance sees one batch at a time). It keeps each user's newest model state for a while,
/// because the copy sent back to the user's entity may arrive after the user's next events were sent
/// here. The detector can be swapped between batches (hot swap of a new model version).
/// </summary>
public sealed class Scorer : IDisposable
{
    private readonly ScorerSettings _settings;
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private IAnomalyDetector _detector;
    private Dictionary<string, ModelStateSlot> _recentStates = new(StringComparer.Ordinal);
    private Dictionary<string, ModelStateSlot> _olderStates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _requestsOfUser = new(StringComparer.Ordinal);
    private int _batchesSinceRotation;
    private long _batches, _requests, _scoringTicks;

    public Scorer(IAnomalyDetector detector, ScorerSettings settings)
    {
        _detector = detector;
        _settings = settings;
        _thread = new Thread(Loop) { IsBackground = true, Name = "scorer" };
        _thread.Start();
        Run(() => torch.set_num_threads(settings.EffectiveTorchThreads)).Wait();
    }

    /// <summary>The detector now scoring.</summary>
    public IAnomalyDetector Detector => Volatile.Read(ref _detector);

    public long Batches => Interlocked.Read(ref _batches);

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Time spent in forward passes.</summary>
    public TimeSpan ScoringTime => TimeSpan.FromTicks(Interlocked.Read(ref _scoringTicks) * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

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
        _recentStates.Clear();
        _olderStates.Clear();
        return old;
    });

    /// <summary>
    /// One forward pass per batch. A user with several requests in one batch (events of consecutive
    /// routing batches) has them scored in order, in rounds: round k holds every user's k-th request and
    /// starts from the states round k-1 produced, so the scores and alerts are those of max-batch 1.
    /// </summary>
    private ScoredBatch Score(IReadOnlyList<ScoringRequest> batch)
    {
        var detector = _detector;
        var outputs = new ScoringOutput[batch.Count];
        var rounds = Rounds(batch);
        long elapsed = 0;
        foreach (var round in rounds)
        {
            if (round.Count == 0) continue;
            var inputs = new ScoringInput[round.Count];
            for (int j = 0; j < inputs.Length; j++)
            {
                var r = batch[round[j]];
                inputs[j] = new ScoringInput(r.UserId, r.Window, r.NewEvents, r.Features, CurrentState(r, detector.StateKey), r.EventCount);
            }
            long start = Stopwatch.GetTimestamp();
            var scored = detector.ScoreBatch(inputs);
            elapsed += Stopwatch.GetTimestamp() - start;
            for (int j = 0; j < scored.Length; j++)
            {
                outputs[round[j]] = scored[j];
                if (scored[j].NewState is { } state) _recentStates[batch[round[j]].UserId] = state;
            }
        }
        if (++_batchesSinceRotation >= _settings.StateCacheBatches)
        {
            (_olderStates, _recentStates) = (_recentStates, _olderStates);
            _recentStates.Clear();
            _batchesSinceRotation = 0;
        }
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _requests, batch.Count);
        Interlocked.Add(ref _scoringTicks, elapsed);
        return new ScoredBatch(batch, outputs, detector.StateKey, TimeSpan.FromTicks(elapsed * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
    }

    /// <summary>Request indices by round: a user's k-th request of the batch goes to round k (almost always one round).</summary>
    private List<List<int>> Rounds(IReadOnlyList<ScoringRequest> batch)
    {
        var first = new List<int>(batch.Count);
        var rounds = new List<List<int>> { first };
        _requestsOfUser.Clear(); // scorer thread only: reused from batch to batch
        for (int i = 0; i < batch.Count; i++)
        {
            ref int count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_requestsOfUser, batch[i].UserId, out _);
            if (count == rounds.Count) rounds.Add([]);
            rounds[count].Add(i);
            count++;
        }
        return rounds;
    }

    /// <summary>The model state that has folded exactly the events before this request's new ones, if any.</summary>
    private ModelStateSlot? CurrentState(ScoringRequest r, string stateKey)
    {
        long expected = r.EventCount - r.NewEvents;
        if (_recentStates.TryGetValue(r.UserId, out var cached) && Fits(cached)) return cached;
        if (_olderStates.TryGetValue(r.UserId, out cached) && Fits(cached)) return cached;
        return r.State is { } fromEntity && fromEntity.ModelKey == stateKey ? fromEntity : null;

        bool Fits(ModelStateSlot slot) => slot.ModelKey == stateKey && slot.EventsFolded == expected;
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
