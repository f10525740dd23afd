using System.Diagnostics;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Hosting;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// source -> parse/validate (dead letters) -> route to user partitions (persisted) -> scoring
/// requests -> a downstream sink. Until a scorer is attached the downstream only counts (and can dump
/// feature vectors).
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
    public async Task<IngestResult> RunAsync(
        Source<IngestedEvent, Task<DeadLetterSummary>> source,
        Sink<ScoringRequest, Task> downstream,
        Func<long> recordsIn,
        CancellationToken cancellation,
        Sink<object, Task>? acks = null,
        Source<ScoringRequest, NotUsed>? rescoring = null)
    {
        var clock = Stopwatch.StartNew();
        long firstEvent = 0, lastPersisted = 0;
        var materializer = _host.System.Materializer();
        var ackSink = acks ?? Sink.Ignore<object>().MapMaterializedValue(t => (Task)t);
        var ((deadLetters, acksDone), done) = source
            .Select(e =>
            {
                if (firstEvent == 0) firstEvent = Stopwatch.GetTimestamp();
                Statistics.Add(e.Event);
                return e;
            })
            .Via(EntityRoutingFlow.Create(_host.Partitions, _host.Settings.Routing))
            .Select(reply =>
            {
                if (reply.Accepted > 0) lastPersisted = Stopwatch.GetTimestamp();
                Routing.Add(reply);
                return reply;
            })
            .AlsoToMaterialized(Flow.Create<PartitionReply>().SelectMany(reply => reply.Acks).ToMaterialized(ackSink, Keep.Right), Keep.Both)
            .SelectMany(reply => reply.Requests)
            .Via(Flow.Create<ScoringRequest>().Prepend(rescoring ?? Source.Empty<ScoringRequest>()))
            .ToMaterialized(downstream, Keep.Both)
            .Run(materializer);

        await done.WaitAsync(cancellation);
        await acksDone.WaitAsync(cancellation);
        var deadLetterSummary = await deadLetters.WaitAsync(cancellation);
        var elapsed = clock.Elapsed;
        // Everything was scored: the confirmations are journaled so a later run does not score it again.
        var partitions = await _host.PartitionStatsAsync(TimeSpan.FromSeconds(60), flushScoredMarks: true);
        var streaming = firstEvent == 0 || lastPersisted < firstEvent ? TimeSpan.Zero : Stopwatch.GetElapsedTime(firstEvent, lastPersisted);
        return new IngestResult(recordsIn(), Statistics, deadLetterSummary, Routing, partitions, elapsed) { Streaming = streaming };
    }

    /// <summary>A downstream that counts requests and, with a path, writes their feature vectors.</summary>
    public static Sink<ScoringRequest, Task> CountingSink(string? featureDumpPath) =>
        featureDumpPath is null
            ? Sink.Ignore<ScoringRequest>().MapMaterializedValue(t => (Task)t)
            : FeatureDumpSink.Create(featureDumpPath).MapMaterializedValue(t => (Task)t);
}
