using System.Diagnostics;
using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Hosting;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Thresholds;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The scoring half of the run, a loop between the stream and the user partitions:
/// scoring requests (batch answers and follow-ups) -> micro-batcher -> scorer (one forward pass per batch,
/// one verdict per event) -> decisions (event by event, thresholds fixed per order-key interval) ->
/// settlement with the partitions (model and alert state back to their owner, alerts journaled, the
/// users' next requests issued) -> alerts released in order -> alert output -> deliveries confirmed to
/// the partitions. Counts, latencies and detection quality are gathered on the way; nothing per user is
/// kept here beyond what is in flight (the detection report, an evaluation aid, excepted).
/// </summary>
public sealed class ScoringPipeline
{
    private readonly Scorer _scorer;
    private readonly AlertDecider _decider;
    private readonly IActorRef _partitions;
    private readonly ScoringContext _context;
    private readonly ScoringPipelineSettings _settings;
    private readonly OnlineScoring? _online;
    private long _scored, _events, _alerts, _redelivered;

    /// <param name="online">Issue 11: the model schedule, the shadow's decisions and the observer; null: the scorer's model scores everything.</param>
    /// <param name="shadow">The shadow's decisions (with <paramref name="online"/>'s schedule), or null.</param>
    public ScoringPipeline(Scorer scorer, AlertDecider decider, IActorRef partitions, ScoringContext context, ScoringPipelineSettings settings, DetectionReport report,
        OnlineScoring? online = null, ShadowDecisions? shadow = null)
    {
        _scorer = scorer;
        _decider = decider;
        _partitions = partitions;
        _context = context;
        _settings = settings;
        _online = online;
        Shadow = shadow;
        Report = report;
        if (online?.Schedule is { IsFixed: false } schedule) context.Schedule = schedule;
    }

    /// <summary>
    /// The scoring loop of one stream on <paramref name="host"/>: its decision ledger, its scoring inbox (an
    /// actor the partitions send follow-ups to), the alert decider and the pipeline.
    /// </summary>
    /// <param name="ledger">The stream's decision ledger (one the online trainer was given, <see cref="OnlineScoringStart"/>); null: a new one.</param>
    /// <param name="online">Issue 11: how the loop learns online (schedule, observer); null: the scorer's model scores everything, as before.</param>
    /// <param name="shadowAlerts">The shadow output (JSONL) when the schedule's plans have a shadow; null: shadow alerts are counted only.</param>
    public static ScoringPipeline Create(EngineHost host, Scorer scorer, Akka.Configuration.Config config, ThresholdSettings thresholds,
        Func<string, ModelThreshold?> modelThreshold, DetectionReport report, DecisionLedger? ledger = null, OnlineScoring? online = null, string? shadowAlerts = null)
    {
        var context = new ScoringContext(ledger ?? new DecisionLedger());
        context.Inbox = host.System.ActorOf(ScoringInbox.Props(context), $"scoring-inbox-{Interlocked.Increment(ref s_inboxes)}");
        var alertSettings = AlertSettings.Create(config);
        int window = host.Settings.Entities.WindowSize;
        var decider = new AlertDecider(alertSettings, thresholds, modelThreshold, context.Ledger, window);
        var shadow = online?.Schedule is null ? null
            : new ShadowDecisions(alertSettings, thresholds, modelThreshold, context.Ledger, window, new ShadowAlertFile(shadowAlerts));
        return new ScoringPipeline(scorer, decider, host.Partitions, context, ScoringPipelineSettings.Create(config), report, online, shadow);
    }

    private static long s_inboxes;

    public DetectionReport Report { get; }

    /// <summary>The run's instruments (histograms, alerts by model and segment), or null when metrics are off.</summary>
    public Telemetry.EngineMetrics? Metrics { get; set; }

    /// <summary>Every evaluated event's score and every alert's label, for `run --report`; null (nothing kept) otherwise.</summary>
    public Reporting.RunEvaluationCollector? Evaluation { get; set; }

    /// <summary>Ingest (entity accepted the event) to scored, per request.</summary>
    public LatencyHistogram ScoredLatency { get; } = new();

    /// <summary>Ingest to alert emitted, per alert.</summary>
    public LatencyHistogram AlertLatency { get; } = new();

    /// <summary>Requests scored.</summary>
    public long Scored => Interlocked.Read(ref _scored);

    /// <summary>Events scored and decided.</summary>
    public long EventsDecided => Interlocked.Read(ref _events);

    /// <summary>Alerts written to the output (re-emissions after a crash included).</summary>
    public long Alerts => Interlocked.Read(ref _alerts);

    /// <summary>Alerts journaled before a crash and emitted again in this run.</summary>
    public long Redelivered => Interlocked.Read(ref _redelivered);

    public Scorer Scorer => _scorer;

    /// <summary>Thresholds and alert decisions (feedback labels go here).</summary>
    public AlertDecider Decider => _decider;

    public ScoringContext Context => _context;

    /// <summary>The model plan the loop scores by (issue 11), or null: the scorer's model scores everything.</summary>
    public ModelSchedule? Schedule => _online?.Schedule;

    /// <summary>The shadow's decisions and output (with a schedule), or null.</summary>
    public ShadowDecisions? Shadow { get; }

    /// <summary>
    /// Ends what the online path holds once the scorer has stopped: what <see cref="OnlineScoring.Owned"/> names (the
    /// trainer), then the schedule (the detectors its plans brought), then the shadow output.
    /// </summary>
    public void CloseOnline()
    {
        if (_online is null) return;
        try
        {
            _online.Owned?.Dispose();
        }
        finally
        {
            _online.Schedule?.Dispose();
            Shadow?.Dispose();
        }
    }

    /// <summary>The sink the ingest job feeds with scoring requests; completes when every alert is out and confirmed.</summary>
    /// <param name="output">Writes alerts and passes each on once it is written (file, stdout, topic).</param>
    /// <param name="featureDump">Also receives every scored request (feature dump), or null.</param>
    public Sink<ScoringRequest, Task> Sink(Flow<AlertRecord, AlertRecord, NotUsed> output, Sink<ScoringRequest, Task>? featureDump = null)
    {
        var requests = Flow.Create<ScoringRequest>().Via(new ScoringLoopEntry(_context));
        var withDump = featureDump is null
            ? requests.MapMaterializedValue(_ => Task.CompletedTask)
            : requests.AlsoToMaterialized(featureDump, Keep.Right);
        return withDump
            .Via(Flow.FromGraph(new MicroBatcher<ScoringRequest>(_settings.Batcher)))
            .Via(_online?.Schedule is { } schedule ? _scorer.Flow(schedule, () => _context.Ledger.Frontier) : _scorer.Flow())
            .Select(AfterScoring)
            .Via(new DecisionStage(_decider, Shadow, _online?.Observer))
            .Via(ScoringSettlement.Create(_partitions, _context, _settings.SettleParallelism, _settings.AskTimeout, _settings.ResendAfter))
            .Select(AfterSettlement)
            // The release reads the requests last; it gives their pooled arrays back unless a reader that keeps them
            // (the feature dump, online learning's observer and shadow) sees them too.
            .Via(new AlertRelease(_context, returnsRequestArrays: featureDump is null && _online is null && Shadow is null))
            .Select(BeforeOutput)
            // Its own island: an output that blocks (a named pipe nobody reads yet, a slow disk) holds the alerts
            // back in the release stage, never the scoring loop.
            .Via(output.Async())
            .ToMaterialized(AlertDeliveries.Create(_partitions, _settings.Partitions, _settings.DeliveryFlush, _settings.KafkaKeyed),
                (dump, delivered) => Task.WhenAll(dump, delivered))
            .Named("scoring");
    }

    private ScoredBatch AfterScoring(ScoredBatch batch)
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var request in batch.Requests)
            if (request.ReceivedTicks != 0) ScoredLatency.AddSince(request.ReceivedTicks, now);
        Interlocked.Add(ref _scored, batch.Requests.Count);
        Metrics?.RecordBatch(batch, now);
        return batch;
    }

    private SettledBatch AfterSettlement(SettledBatch batch)
    {
        long events = 0;
        foreach (var decided in batch.Requests)
        {
            var r = decided.Request;
            for (int j = 0; j < r.NewEvents; j++)
            {
                sbyte label = r.Labels?[j] ?? -1;
                long eventMs = r.Window[r.FirstNewIndex + j].TimestampMs;
                Report.Observe(r.UserId, eventMs, label < 0 ? null : label);
                Evaluation?.Scored(r.UserId, eventMs, decided.Output.ScoreAt(j), label);
            }
            if (Evaluation is { } evaluation)
                foreach (var alert in decided.Alerts)
                {
                    long j = alert.EventIndex - r.EventIndexOf(0);
                    evaluation.Alerted(alert.TimeMs, r.Labels is { } labels && j >= 0 && j < labels.Length ? labels[j] : -1);
                }
            events += r.NewEvents;
        }
        Interlocked.Add(ref _events, events);
        return batch;
    }

    private AlertRecord BeforeOutput(AlertRecord alert)
    {
        Report.Alerted(alert.UserId, alert.TimeMs);
        if (alert.ReceivedTicks != 0) AlertLatency.AddSince(alert.ReceivedTicks, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _alerts);
        Metrics?.RecordAlert(alert);
        if (alert.Redelivery) Interlocked.Increment(ref _redelivered);
        return alert;
    }
}
