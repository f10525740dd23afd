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
/// by the scoring loop only when a run has metrics attached. The gauges read what the run holds at each
/// collection: partitions and users on this node (<see cref="NodeOccupancy"/>), the scorer's busy share since the
/// previous collection, the thresholds in force, the Kafka consumer's lag per partition and whether it reaches a
/// broker; the Kafka commit
/// duration comes from the consumer (<c>KafkaConsumerInstruments</c>, same meter name). Names and units follow
/// the OpenTelemetry conventions: <c>streamdetect.events.received</c> is <c>streamdetect_events_received_total</c>
/// in Prometheus.
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
    private readonly NodeOccupancy _occupancy;
    private readonly Lock _busyGate = new();
    private Scorer? _busyScorer;
    private long _busyAt;
    private TimeSpan _busyThen;
    private double? _busyShare;

    /// <summary>Shortest window the scorer's busy share is measured over (collections closer together repeat the last value).</summary>
    private static readonly TimeSpan MinBusyWindow = TimeSpan.FromSeconds(1);

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
        _meter.CreateObservableCounter("streamdetect.routing.asks", RoutingAsks, "{batch}",
            "Batches the stream sent to user partitions, by where the partition was: node = local (this node) or remote (another node)");
        _meter.CreateObservableCounter("streamdetect.users.new", () => job.Ingest?.Routing.NewUsers ?? 0, "{user}",
            "Users seen for the first time");
        _meter.CreateObservableCounter("streamdetect.events.scored", () => job.Scoring?.EventsDecided ?? 0, "{event}",
            "Events scored and decided");
        _meter.CreateObservableGauge("streamdetect.model.in_use", ModelsInUse, "{model}",
            "1 for each model that decided events in this run: model (name@version), name, version");
        _occupancy = new NodeOccupancy(() => job.Host);
        _meter.CreateObservableGauge("streamdetect.partitions.local", () => Optional(_occupancy.Partitions), "{partition}",
            "User partitions hosted by this node");
        _meter.CreateObservableGauge("streamdetect.users.local", () => Optional(_occupancy.Users), "{user}",
            "Users held in the user partitions hosted by this node");
        _meter.CreateObservableGauge("streamdetect.scorer.busy", () => Optional(ScorerBusy()), "1",
            "Share of wall time the scorer spent in model calls since the previous collection (0..1)");
        _meter.CreateObservableGauge("streamdetect.threshold", Thresholds, "1",
            "Alert threshold in force (calibrated score), by model (name@version) and segment (new, established)");
        _meter.CreateObservableGauge("streamdetect.kafka.consumer.lag", KafkaLag, "{record}",
            "Records between the committed offset and the high watermark, per topic and partition this consumer owns");
        _meter.CreateObservableGauge("streamdetect.kafka.brokers.reachable", KafkaBrokersReachable, "1",
            "1 while the Kafka consumer reaches a broker, 0 while every broker is down (retried with backoff); absent without a Kafka consumer");
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

    /// <summary>Reads what this node hosts now (the stream ended): the gauges show the end state.</summary>
    internal Task RefreshOccupancyAsync(Hosting.EngineHost host) => _occupancy.RefreshNowAsync(host);

    /// <summary>An alert on its way to the output.</summary>
    internal void RecordAlert(AlertRecord alert)
    {
        _alerts.Add(1, new KeyValuePair<string, object?>("model", alert.Model ?? "unknown"), new KeyValuePair<string, object?>("segment", alert.Segment ?? "unknown"));
        if (alert.ReceivedTicks != 0) _alertLatency.Record(Stopwatch.GetElapsedTime(alert.ReceivedTicks).TotalSeconds);
    }

    private IEnumerable<Measurement<long>> DeadLetters() =>
        _job.Progress.DeadLettersByReason.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("reason", p.Key)));

    private IEnumerable<Measurement<long>> RoutingAsks() =>
        _job.Ingest?.Routing is { } routing
            ? [new Measurement<long>(routing.LocalAsks, new KeyValuePair<string, object?>("node", "local")),
               new Measurement<long>(routing.RemoteAsks, new KeyValuePair<string, object?>("node", "remote"))]
            : [];

    private IEnumerable<Measurement<int>> ModelsInUse() =>
        _models.Keys.Select(m =>
        {
            int at = m.LastIndexOf('@');
            return new Measurement<int>(1, new KeyValuePair<string, object?>("model", m),
                new KeyValuePair<string, object?>("name", at < 0 ? m : m[..at]), new KeyValuePair<string, object?>("version", at < 0 ? "" : m[(at + 1)..]));
        });

    private static IEnumerable<Measurement<T>> Optional<T>(T? value) where T : struct =>
        value is T v ? [new Measurement<T>(v)] : [];

    private static IEnumerable<Measurement<long>> Optional(int? value) => Optional(value is int v ? (long?)v : null);

    /// <summary>The scorer's busy share over the wall time since the window started (at least <see cref="MinBusyWindow"/>); null before a first window.</summary>
    private double? ScorerBusy()
    {
        if (_job.Scoring?.Scorer is not { } scorer) return null;
        long now = Stopwatch.GetTimestamp();
        var busy = scorer.BusyTime(now);
        lock (_busyGate)
        {
            if (!ReferenceEquals(_busyScorer, scorer))
            {
                _busyScorer = scorer;
                _busyAt = now;
                _busyThen = busy;
                _busyShare = null;
                return null;
            }
            var wall = Stopwatch.GetElapsedTime(_busyAt, now);
            if (wall >= MinBusyWindow)
            {
                _busyShare = Math.Clamp((busy - _busyThen) / wall, 0, 1);
                _busyAt = now;
                _busyThen = busy;
            }
            return _busyShare;
        }
    }

    private IEnumerable<Measurement<double>> Thresholds() =>
        _job.Scoring?.Decider.CurrentThresholds() is { } thresholds
            ? thresholds.Select(t => new Measurement<double>(t.Threshold, new KeyValuePair<string, object?>("model", t.Model), new KeyValuePair<string, object?>("segment", t.Segment)))
            : [];

    private IEnumerable<Measurement<int>> KafkaBrokersReachable() =>
        _job.KafkaBrokersReachable is bool reachable ? [new Measurement<int>(reachable ? 1 : 0)] : [];

    private IEnumerable<Measurement<long>> KafkaLag() =>
        _job.KafkaLag.Select(l => new Measurement<long>(l.Records, new KeyValuePair<string, object?>("topic", l.Topic), new KeyValuePair<string, object?>("partition", l.Partition)));

    public void Dispose()
    {
        if (_job.Metrics == this) _job.Metrics = null;
        _occupancy.Dispose();
        _meter.Dispose();
    }
}
