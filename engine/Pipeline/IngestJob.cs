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
    public async Task<IngestResult> RunAsync(
        Source<IngestedEvent, Task<DeadLetterSummary>> source,
        Sink<ScoringRequest, Task> downstream,
        Func<long> recordsIn,
        CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var materializer = _host.System.Materializer();
        var (deadLetters, done) = source
            .Select(e =>
            {
                Statistics.Add(e.Event);
                return e;
            })
            .Via(EntityRoutingFlow.Create(_host.Partitions, _host.Settings.Routing))
            .Select(reply =>
            {
                Routing.Add(reply);
                return reply;
            })
            .SelectMany(reply => reply.Requests)
            .ToMaterialized(downstream, Keep.Both)
            .Run(materializer);

        await done.WaitAsync(cancellation);
        var deadLetterSummary = await deadLetters.WaitAsync(cancellation);
        var elapsed = clock.Elapsed;
        var partitions = await _host.PartitionStatsAsync(TimeSpan.FromSeconds(60));
        return new IngestResult(recordsIn(), Statistics, deadLetterSummary, Routing, partitions, elapsed);
    }

    /// <summary>A downstream that counts requests and, with a path, writes their feature vectors.</summary>
    public static Sink<ScoringRequest, Task> CountingSink(string? featureDumpPath) =>
        featureDumpPath is null
            ? Sink.Ignore<ScoringRequest>().MapMaterializedValue(t => (Task)t)
            : FeatureDumpSink.Create(featureDumpPath).MapMaterializedValue(t => (Task)t);
}
