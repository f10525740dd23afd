using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// The scoring half under a slow model, end to end: source -> user partitions (IngestJob) -> micro-batcher
/// -> scorer (ScoringPipeline), with a real model slowed down on the scorer thread.
/// </summary>
public sealed class ScoringBackpressureTests(ITestOutputHelper output)
{
    // Small buffers, so the in-flight bound is small next to the traffic: a source that ran ahead of the
    // scorer would overshoot it many times over.
    private const int RoutingBatch = 8, RoutingParallelism = 4, ScoringBatch = 16;
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan SlowBatch = TimeSpan.FromMilliseconds(20);
    private const int Burst = 2000, Trickle = 5;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Events admitted for scoring and not yet settled, at most (<c>scoring.max-unsettled-events</c>): events of
    /// users whose request is in flight wait in their partitions, so this, not the stream buffers, is the bound.
    /// </summary>
    private const int MaxUnsettled = 64;

    /// <summary>
    /// Events the source can have emitted that the model has not scored: the admitted ones, plus the element
    /// the admission stage has pulled and one more in the counting stage before it.
    /// </summary>
    private const int InFlightEvents = MaxUnsettled + 2;

    /// <summary>Requests from batch answers in the scoring sink not scored yet: one waiting at the loop's entry, the batch the MicroBatcher holds and the one batch in the scorer.</summary>
    private const int ScoringInFlightRequests = 2 * ScoringBatch + 1;

    [Fact]
    public async Task A_slow_scorer_slows_the_source_batches_stay_within_max_batch_and_partial_batches_leave_after_max_wait()
    {
        Assert.True(InFlightEvents * 4 < Burst, "the burst must dwarf the in-flight bound, or the bound proves nothing");
        var config = EngineConfig.Load(null, $$"""
            streamdetect {
              store.kind = memory
              routing { max-batch = {{RoutingBatch}}, max-wait = 5ms, parallelism = {{RoutingParallelism}} }
              scoring.batcher { max-batch = {{ScoringBatch}}, max-wait = {{(int)MaxWait.TotalMilliseconds}}ms }
              scoring.max-unsettled-events = {{MaxUnsettled}}
              thresholds { mode = fixed, fixed { new = 50, established = 50 } }
              # The counts below are of events: no session closes before the end of the input (its markers are counted there).
              sessions { gap = 36500d, end-types = [], split-on-session-field = off }
            }
            """);
        var batcher = MicroBatcherSettings.Create(config);
        Assert.Equal(ScoringBatch, batcher.MaxBatch);
        Assert.Equal(MaxWait, batcher.MaxWait);
        Assert.Equal(RoutingBatch, EntityRoutingSettings.Create(config).MaxBatch);

        // Users interleaved (every user's 1st event, then every user's 2nd, ...): neighbouring events belong to
        // different users, so batches fill with requests of users that have none in flight.
        var events = new TrafficGenerator(GeneratorSettings.Default with { Users = 300, Days = 3, Seed = 12 }).Events()
            .GroupBy(e => e.UserId)
            .SelectMany(user => user.Select((e, index) => (e, index)))
            .OrderBy(x => x.index)
            .Select(x => x.e)
            .Take(Burst + Trickle)
            .ToList();
        long epoch = 0x5c0_0001;
        IngestedEvent Ingested(int i) => new(events[i], new SourcePosition("backpressure-test", 0, i + 1, epoch));

        await using var host = await EngineHost.StartAsync(config, cluster: false, TestContext.Current.CancellationToken);
        var slow = new SlowDetector(QuickModel.Train("zscore")) { Delay = SlowBatch };
        using var scorer = new Scorer(slow, ScorerSettings.Default with { TorchThreads = 1 });
        try
        {
            var scoring = ScoringPipeline.Create(host, scorer, config, ThresholdSettings.Create(config), _ => null, new DetectionReport(long.MinValue, null));

            // What the source has emitted, and what has reached the scoring sink (before the batcher).
            long pulled = 0, enteredEvents = 0, enteredRequests = 0;
            var entered = new ConcurrentDictionary<(string User, long EventCount), long>();
            var trickle = Channel.CreateBounded<IngestedEvent>(1);
            var source = Source.From(Enumerable.Range(0, Burst).Select(Ingested))
                .Concat(ChannelSource.FromReader(trickle.Reader))
                .Select(e =>
                {
                    Interlocked.Increment(ref pulled);
                    return e;
                })
                .MapMaterializedValue(_ => Task.FromResult(DeadLetterSummary.Empty));
            var downstream = Flow.Create<ScoringRequest>()
                .Select(r =>
                {
                    entered[(r.UserId, r.EventCount)] = Stopwatch.GetTimestamp();
                    Interlocked.Add(ref enteredEvents, r.NewEvents);
                    Interlocked.Increment(ref enteredRequests);
                    return r;
                })
                .ToMaterialized(scoring.Sink(AlertOutputs.None()), Keep.Right);

            // Sampled on the scorer thread while it holds a batch (after the delay, when upstream buffers are fullest);
            // counters are read downstream-last, so a sample never overstates what is in flight.
            long maxScoringInFlight = 0, maxInFlight = 0, samples = 0;
            var waits = new ConcurrentQueue<(int Size, TimeSpan Waited)>(); // trickle phase: how long each batch's first request waited
            bool trickling = false;
            slow.BeforeScoring = batch =>
            {
                long p = Interlocked.Read(ref pulled), ee = Interlocked.Read(ref enteredEvents), er = Interlocked.Read(ref enteredRequests);
                maxScoringInFlight = Math.Max(maxScoringInFlight, er - slow.ScoredRequests);
                maxInFlight = Math.Max(maxInFlight, p - slow.ScoredEvents);
                samples++;
                if (Volatile.Read(ref trickling) && entered.TryGetValue((batch[0].UserId, batch[0].EventCount), out long at))
                    waits.Enqueue((batch.Count, Stopwatch.GetElapsedTime(at)));
            };

            var run = new IngestJob(host).RunAsync(source, downstream, () => Interlocked.Read(ref pulled), TestContext.Current.CancellationToken,
                scoring: scoring.Context, maxUnsettled: ScorerSettings.Create(config).MaxUnsettledEvents);

            // Phase 1: the burst against a slow scorer.
            await WaitUntil(() => slow.ScoredEvents >= Burst, run, "the burst to be scored");
            int burstBatches = slow.BatchSizes.Count;
            var burstSizes = slow.BatchSizes.ToList();
            output.WriteLine($"burst: {Burst} events in {burstBatches} batches ({burstSizes.Count(s => s == ScoringBatch)} full), {samples} samples; " +
                $"max in flight: scoring {maxScoringInFlight} requests " +
                $"(bound {ScoringInFlightRequests}), source to model {maxInFlight} events (bound {InFlightEvents})");

            // Phase 2: a trickle of fewer than max-batch requests, the source kept open.
            slow.Delay = TimeSpan.Zero;
            Volatile.Write(ref trickling, true);
            for (int i = Burst; i < Burst + Trickle; i++)
            {
                await trickle.Writer.WriteAsync(Ingested(i), TestContext.Current.CancellationToken);
                await Task.Delay(40, TestContext.Current.CancellationToken);
            }
            await WaitUntil(() => slow.ScoredEvents >= Burst + Trickle, run, "the trickle to be scored while the source is open");
            Assert.False(run.IsCompleted, "the source is still open: only max-wait can have released the trickle's batches");
            var trickleSizes = slow.BatchSizes.Skip(burstBatches).ToList();
            var trickleWaits = waits.ToList(); // before the end of the input adds the batches of its session end markers
            output.WriteLine($"trickle: {Trickle} events in batches of [{string.Join(", ", trickleSizes)}], first request waited " +
                $"[{string.Join(", ", waits.Select(w => $"{w.Waited.TotalMilliseconds:F0} ms"))}]");

            trickle.Writer.Complete();
            var result = await run.WaitAsync(Timeout, TestContext.Current.CancellationToken);

            // No batch exceeds max-batch; under the slow scorer the batcher fills them.
            Assert.All(slow.BatchSizes, size => Assert.InRange(size, 1, ScoringBatch));
            Assert.True(burstSizes.Count(s => s == ScoringBatch) * 2 >= burstSizes.Count,
                $"with the scorer the bottleneck most batches should be full: [{string.Join(", ", burstSizes)}]");
            // The source is held back: what it emitted and the model has not scored stays within the buffers.
            Assert.True(samples >= burstBatches);
            Assert.InRange(maxScoringInFlight, 0, ScoringInFlightRequests);
            Assert.InRange(maxInFlight, 0, InFlightEvents);
            // max-wait: fewer than max-batch requests still leave, once the first has waited max-wait (the timer may
            // fire up to a scheduler tick early), while the source stays open.
            Assert.Equal(Trickle, trickleSizes.Sum());
            Assert.All(trickleSizes, size => Assert.InRange(size, 1, ScoringBatch - 1));
            Assert.Equal(trickleSizes.Count, trickleWaits.Count);
            Assert.All(trickleWaits, w => Assert.InRange(w.Waited, MaxWait - TimeSpan.FromMilliseconds(20), MaxWait + TimeSpan.FromSeconds(3)));

            Assert.Equal(Burst + Trickle, result.Statistics.Events);
            Assert.Equal(Burst + Trickle + result.Routing.SessionsClosed, slow.ScoredEvents); // and a marker per session closed at the end
            Assert.True(Interlocked.Read(ref enteredRequests) <= scorer.Requests, "requests from batch answers and follow-ups are all scored");
        }
        finally
        {
            slow.Dispose();
        }
    }

    private static async Task WaitUntil(Func<bool> condition, Task run, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (run.IsFaulted) await run; // surfaces the stream's failure
            Assert.True(clock.Elapsed < Timeout, $"timed out waiting for {what}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
