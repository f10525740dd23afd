using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// The engine's instruments, all in the meter <see cref="MeterName"/>. Counts the run keeps anyway (records
/// read, valid events, dead letters by reason, rows and events persisted, events scored) are observable
/// instruments read at each collection, so the hot paths do no extra work; the histograms (micro-batch size,
/// scorer batch duration, ingest -> scored and ingest -> alert latency) and the alerts counter are recorded
/// by the scoring loop only when a run has metrics attached. Names and units follow the OpenTelemetry
/// conventions: <c>streamdetect.events.received</c> is <c>streamdetect_events_received_total</c> in Prometheus.
/// </summary>
public sealed class EngineMetrics : IDisposable
{
    public const string MeterName = "StreamDetect";

    private readonly Meter _meter;
    private readonly RunJob _job;
    private readonly Histogram<long> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _scoredLatency;
    private readonly Histogram<double> _alertLatency;
    private readonly Counter<long> _alerts;
    private readonly ConcurrentDictionary<string, byte> _models = new(StringComparer.Ordinal);

    private EngineMetrics(RunJob job)
    {
        _job = job;
        _meter = new Meter(MeterName, typeof(EngineMetrics).Assembly.GetName().Version?.ToString());
        _meter.CreateObservableCounter("streamdetect.events.received", () => job.Progress.Records, "{record}",
            "Records read from the input (valid or not)");
        _meter.CreateObservableCounter("streamdetect.events.valid", () => job.Ingest?.Statistics.Events ?? 0, "{event}",
            "Events that passed validation");
        _meter.CreateObservableCounter("streamdetect.events.dead_lettered", DeadLetters, "{record}",
            "Records rejected, by reason code");
        _meter.CreateObservableCounter("streamdetect.events.persisted", () => job.Ingest?.Routing.Accepted ?? 0, "{event}",
            "Events persisted by the user partitions (replays not counted)");
        _meter.CreateObservableCounter("streamdetect.events.duplicates", () => job.Ingest?.Routing.Duplicates ?? 0, "{event}",
            "Events dropped as replays of input already persisted");
        _meter.CreateObservableCounter("streamdetect.journal.rows", () => job.Ingest?.Routing.Rows ?? 0, "{row}",
            "Journal rows written by the user partitions");
        _meter.CreateObservableCounter("streamdetect.users.new", () => job.Ingest?.Routing.NewUsers ?? 0, "{user}",
            "Users seen for the first time");
        _meter.CreateObservableCounter("streamdetect.events.scored", () => job.Scoring?.EventsDecided ?? 0, "{event}",
            "Events scored and decided");
        _meter.CreateObservableGauge("streamdetect.model.in_use", ModelsInUse, "{model}",
            "1 for each model (name@version) that decided events in this run");
        _batchSize = _meter.CreateHistogram<long>("streamdetect.scorer.batch.size", "{request}",
            "Scoring requests per micro-batch", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096] });
        _batchDuration = _meter.CreateHistogram<double>("streamdetect.scorer.batch.duration", "s",
            "Model time per micro-batch (one forward pass)", advice: LatencyBuckets);
        _scoredLatency = _meter.CreateHistogram<double>("streamdetect.latency.ingest_to_scored", "s",
            "From the entity accepting a request's first event to its scoring", advice: LatencyBuckets);
        _alertLatency = _meter.CreateHistogram<double>("streamdetect.latency.ingest_to_alert", "s",
            "From the entity accepting the alerting event to the alert going out", advice: LatencyBuckets);
        _alerts = _meter.CreateCounter<long>("streamdetect.alerts", "{alert}",
            "Alerts written to the output, by model (name@version) and threshold segment");
    }

    private static readonly InstrumentAdvice<double> LatencyBuckets = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    };

    /// <summary>Instruments for <paramref name="job"/>; its scoring loop records into them once it is built.</summary>
    public static EngineMetrics Attach(RunJob job)
    {
        var metrics = new EngineMetrics(job);
        job.Metrics = metrics;
        return metrics;
    }

    /// <summary>After the scorer: batch size, model time and ingest -> scored latency of each request.</summary>
    internal void RecordBatch(ScoredBatch batch, long nowTicks)
    {
        _models.TryAdd(batch.Model, 0);
        _batchSize.Record(batch.Requests.Count);
        _batchDuration.Record(batch.ScoringTime.TotalSeconds);
        if (!_scoredLatency.Enabled) return;
        foreach (var request in batch.Requests)
            if (request.ReceivedTicks != 0) _scoredLatency.Record(Stopwatch.GetElapsedTime(request.ReceivedTicks, nowTicks).TotalSeconds);
    }

    /// <summary>An alert on its way to the output.</summary>
    internal void RecordAlert(AlertRecord alert)
    {
        _alerts.Add(1, new KeyValuePair<string, object?>("model", alert.Model ?? "unknown"), new KeyValuePair<string, object?>("segment", alert.Segment ?? "unknown"));
        if (alert.ReceivedTicks != 0) _alertLatency.Record(Stopwatch.GetElapsedTime(alert.ReceivedTicks).TotalSeconds);
    }

    private IEnumerable<Measurement<long>> DeadLetters() =>
        _job.Progress.DeadLettersByReason.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("reason", p.Key)));

    private IEnumerable<Measurement<int>> ModelsInUse() =>
        _models.Keys.Select(m => new Measurement<int>(1, new KeyValuePair<string, object?>("model", m)));

    public void Dispose()
    {
        if (_job.Metrics == this) _job.Metrics = null;
        _meter.Dispose();
    }
}
