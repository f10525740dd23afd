using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Entities;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The scoring half of the run: scoring requests -> micro-batcher -> scorer (one forward pass per
/// batch) -> new model states back to the user entities -> thresholds -> alerts (explained with the
/// user's window) -> alert sink. Counts, latencies and detection quality are gathered on the way.
/// </summary>
public sealed class ScoringPipeline
{
    private readonly Scorer _scorer;
    private readonly AlertDecider _decider;
    private readonly IActorRef _partitions;
    private readonly MicroBatcherSettings _batcher;

    public ScoringPipeline(Scorer scorer, AlertDecider decider, IActorRef partitions, MicroBatcherSettings batcher, DetectionReport report)
    {
        _scorer = scorer;
        _decider = decider;
        _partitions = partitions;
        _batcher = batcher;
        Report = report;
    }

    public DetectionReport Report { get; }

    /// <summary>Alerts the output held before the run (scored again after a crash): not written twice.</summary>
    public EmittedAlerts Emitted { get; init; } = EmittedAlerts.None;

    /// <summary>Ingest (entity accepted the event) to scored, per request.</summary>
    public LatencyHistogram ScoredLatency { get; } = new();

    /// <summary>Ingest to alert emitted, per alert.</summary>
    public LatencyHistogram AlertLatency { get; } = new();

    public long Scored => Interlocked.Read(ref _scored);

    public long Alerts => Interlocked.Read(ref _alerts);

    public Scorer Scorer => _scorer;

    /// <summary>Thresholds and alert decisions (feedback labels go here).</summary>
    public AlertDecider Decider => _decider;

    private long _scored, _alerts;

    /// <summary>The sink the ingest job feeds with scoring requests; completes when the alert sink is done.</summary>
    public Sink<ScoringRequest, Task> Sink(Sink<Alert, Task> alerts) =>
        Flow.Create<ScoringRequest>()
            .Via(Flow.FromGraph(new MicroBatcher<ScoringRequest>(_batcher)))
            .Via(_scorer.Flow())
            .Select(AfterScoring)
            .SelectMany(batch => _decider.Decide(batch))
            .SelectAsync(4, ExplainWithWindow)
            .Select(alert =>
            {
                Report.Alerted(alert.UserId, alert.WindowEndMs);
                return alert;
            })
            .Where(Emitted.IsNew)
            .Select(alert =>
            {
                Interlocked.Increment(ref _alerts);
                return alert;
            })
            .ToMaterialized(alerts, Keep.Right)
            .Named("scoring");

    private ScoredBatch AfterScoring(ScoredBatch batch)
    {
        long now = Stopwatch.GetTimestamp();
        for (int i = 0; i < batch.Requests.Count; i++)
        {
            var request = batch.Requests[i];
            // The new model state, and the confirmation that the user is scored through this request's
            // last event (journaled by the entity: after a crash, what was never confirmed is scored again).
            _partitions.Tell(new ModelStateUpdate(request.Partition, request.UserId, batch.Outputs[i].NewState) { ScoredThrough = request.EventCount });
            Report.Observe(request.UserId, request.LastEventMs, request.Label);
            if (request.ReceivedTicks != 0) ScoredLatency.AddSince(request.ReceivedTicks, now);
        }
        Interlocked.Add(ref _scored, batch.Requests.Count);
        return batch;
    }

    /// <summary>
    /// An alert built from a request that carried only the new events gets the user's whole window
    /// from its entity (alerts are rare, so this ask costs little), cut at the alert's time.
    /// </summary>
    private async Task<Alert> ExplainWithWindow(Alert alert)
    {
        if (alert.Window.UserEvents > alert.Window.Events && alert.Window.Events < 8)
        {
            try
            {
                int partition = Stages.Routing.UserPartitioner.PartitionOf(alert.UserId, PartitionCount);
                var window = await _partitions.Ask<UserWindow>(new GetUserWindow(partition, alert.UserId), TimeSpan.FromSeconds(5));
                var upToAlert = window.Window.Where(e => e.TimestampMs <= alert.WindowEndMs).ToList();
                if (upToAlert.Count > alert.Window.Events)
                    alert = alert with { Window = AlertDecider.SummarizeWindow(upToAlert, alert.Window.UserEvents) };
            }
            catch (AskTimeoutException)
            {
                // keep the alert with the events it has
            }
        }
        if (alert.ReceivedTicks != 0) AlertLatency.AddSince(alert.ReceivedTicks, Stopwatch.GetTimestamp());
        return alert;
    }

    /// <summary>The number of user partitions (to address a user's entity).</summary>
    public int PartitionCount { get; init; } = 64;
}
