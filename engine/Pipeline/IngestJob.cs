using System.Diagnostics;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Hosting;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// source -> parse/validate (dead letters) -> [order keys] -> route to user partitions (persisted) ->
/// scoring requests -> a downstream sink. Without a scoring loop (ingest only) the partitions keep no
/// scoring ledger and the downstream only counts.
/// </summary>
public sealed class IngestJob
{
    private readonly EngineHost _host;

    public IngestJob(EngineHost host)
    {
        _host = host;
    }

    public IngestStatistics Statistics { get; } = new();

    public RoutingStatistics Routing { get; } = new();

    /// <summary>Runs the stream to completion and gathers the partitions' figures.</summary>
    /// <param name="recordsIn">Reads how many records the source produced (for the summary).</param>
    /// <param name="acks">Receives the source acknowledgements of persisted events (e.g. Kafka offsets to commit), or null.</param>
    /// <param name="rescoring">Requests that go downstream before any other (users scored again after a crash), or null.</param>
    /// <param name="scoring">The scoring loop the downstream runs (events get order keys and await scoring), or null.</param>
    /// <param name="maxUnsettled">With <paramref name="scoring"/>: events admitted and not yet settled, at most (<c>scoring.max-unsettled-events</c>).</param>
    /// <param name="closeSessionsAtEnd">Asked when the source ends: whether the input ended, so the open sessions close (README "Sessions in the stream"); null: always.</param>
    /// <param name="afterStream">Called once the stream is done, before the partitions' final flush (which may snapshot for minutes, long
    /// enough for idle partitions to passivate): `run --measure-memory` measures here, with every partition's state in memory.</param>
    public async Task<IngestResult> RunAsync(
        Source<IngestedEvent, Task<DeadLetterSummary>> source,
        Sink<ScoringRequest, Task> downstream,
        Func<long> recordsIn,
        CancellationToken cancellation,
        Sink<object, Task>? acks = null,
        Source<ScoringRequest, NotUsed>? rescoring = null,
        ScoringContext? scoring = null,
        long maxUnsettled = 65_536,
        Func<bool>? closeSessionsAtEnd = null,
        Action? afterStream = null)
    {
        var clock = Stopwatch.StartNew();
        long firstEvent = 0, lastPersisted = 0;
        DateTimeOffset? firstPersisted = null;
        var materializer = _host.System.Materializer();
        // Where each answered ask's partition lives (this node or another): the remote-ask share of the summary.
        using var locality = await PartitionLocality.StartAsync(_host);
        var ackSink = acks ?? Sink.Ignore<object>().MapMaterializedValue(t => (Task)t);
        var counted = source.ViaMaterialized(KillSwitches.Single<IngestedEvent>(), Keep.Both).Select(e =>
        {
            if (firstEvent == 0) firstEvent = Stopwatch.GetTimestamp();
            Statistics.Add(e.Event);
            return e;
        });
        if (scoring is not null) counted = counted.Via(new ScoringAdmission(scoring, maxUnsettled));
        var (((deadLetters, killSwitch), acksDone), done) = counted
            .Via(EntityRoutingFlow.Create(_host.Partitions, _host.Settings.Routing, scoring, closeSessionsAtEnd))
            .Select(reply =>
            {
                if (reply.Accepted > 0)
                {
                    lastPersisted = Stopwatch.GetTimestamp();
                    firstPersisted ??= DateTimeOffset.UtcNow;
                }
                Routing.Add(reply);
                // A batch of events (the end-of-input closes, one per partition and stream, are not counted).
                if (reply.Accepted + reply.Duplicates > 0) Routing.AddAsk(locality?.IsLocal(reply.Partition) ?? true);
                return reply;
            })
            .AlsoToMaterialized(Flow.Create<PartitionReply>().SelectMany(reply => reply.Acks).ToMaterialized(ackSink, Keep.Right), Keep.Both)
            .SelectMany(reply => reply.Requests)
            .Via(Flow.Create<ScoringRequest>().Prepend(rescoring ?? Source.Empty<ScoringRequest>()))
            .ToMaterialized(downstream, Keep.Both)
            .Run(materializer);

        // A cancelled run (Ctrl-C, SIGTERM on a file or generator run) stops its stream before the scorer and the
        // engine are disposed under it: the stages see the abort, the awaits below end, the caller's token says why.
        await using (cancellation.Register(() => killSwitch.Abort(new OperationCanceledException("the run was cancelled"))))
        {
            try
            {
                await done.WaitAsync(cancellation);
            }
            catch (Exception) when (cancellation.IsCancellationRequested)
            {
                await Task.WhenAny(done, Task.Delay(TimeSpan.FromSeconds(5)));
                throw new OperationCanceledException(cancellation);
            }
        }
        await acksDone.WaitAsync(cancellation);
        var deadLetterSummary = await deadLetters.WaitAsync(cancellation);
        var elapsed = clock.Elapsed;
        afterStream?.Invoke();
        // Everything was scored and delivered: the confirmations are journaled so a later run does not redo it.
        // The final flush may take an end-of-stream snapshot first (entities.snapshot-at-end): a partition of a million-user
        // store writes tens of MB, all partitions through one store writer.
        var partitions = await _host.PartitionStatsAsync(TimeSpan.FromSeconds(300), flushScoredMarks: true);
        var streaming = firstEvent == 0 || lastPersisted < firstEvent ? TimeSpan.Zero : Stopwatch.GetElapsedTime(firstEvent, lastPersisted);
        return new IngestResult(recordsIn(), Statistics, deadLetterSummary, Routing, partitions, elapsed) { Streaming = streaming, FirstPersisted = firstPersisted };
    }

    /// <summary>A downstream that only counts (ingest only: no request is produced).</summary>
    public static Sink<ScoringRequest, Task> CountingSink() => Sink.Ignore<ScoringRequest>().MapMaterializedValue(t => (Task)t);
}
