using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Models.Calibration;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Routing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The main job end to end, in four steps: <b>plan</b> (settings and checks, <see cref="RunPlan"/>),
/// <b>build</b> (the model, loaded or trained on the input's first days; the engine; the input; the scoring
/// loop and the alert output; what a crash left to finish), <b>run</b> (the stream to its end, or a Kafka
/// run until stopped or idle) and <b>report</b> (<see cref="RunSummary"/>).
/// </summary>
public sealed class RunJob
{
    private readonly RunRequest _request;
    private readonly TextWriter _log;

    public RunJob(RunRequest request, TextWriter log)
    {
        _request = request;
        _log = log;
    }

    /// <summary>Keep every evaluated event's score for `run --report` (<see cref="Evaluation"/>).</summary>
    public bool CollectEvaluation { get; init; }

    /// <summary>Measure the process's memory once the stream is done, before the partitions' final flush (`run --measure-memory`).</summary>
    public bool MeasureMemory { get; init; }

    // Measured when the stream is done, before the final flush (MeasureMemory).
    private MemorySummary? _memory;

    /// <summary>The scores and alerts `run --report` draws, once the scoring loop is built; null unless <see cref="CollectEvaluation"/>.</summary>
    public Reporting.RunEvaluationCollector? Evaluation { get; private set; }

    /// <summary>
    /// Issue 11: makes the scoring loop's online path (model schedule, observer) once the run's model and decision ledger
    /// exist; null (or a result with neither): the run's model scores everything, as before.
    /// </summary>
    public Func<OnlineScoringStart, OnlineScoring>? Online { get; init; }

    /// <summary>Set while the stream runs (for progress lines).</summary>
    public IngestJob? Ingest { get; private set; }

    public ScoringPipeline? Scoring { get; private set; }

    /// <summary>The run's instruments (<see cref="Telemetry.EngineMetrics.Attach"/>), or null when metrics are off.</summary>
    public Telemetry.EngineMetrics? Metrics { get; internal set; }

    private volatile bool _streaming;
    // Whether the end of the stream is the end of the input (README "Sessions in the stream"): a Kafka run stopped by Ctrl-C or
    // SIGTERM leaves its sessions open for the next run; one stopped by --stop-after-idle closes them.
    private volatile bool _inputEnded = true;
    private KafkaEventSource? _kafka;

    /// <summary>
    /// Ready for traffic: the engine started and joined its cluster, the store answered (the partitions' state was
    /// read), the model is loaded (when scoring), the stream runs, and (Kafka) the consumer joined its group.
    /// </summary>
    public bool IsReady => NotReadyBecause is null;

    /// <summary>Why the run is not <see cref="IsReady"/> (for /health/ready), or null when it is.</summary>
    public string? NotReadyBecause =>
        !_streaming ? $"not streaming ({Phase})"
        : KafkaBrokersReachable == false ? $"no Kafka broker reachable at {_kafka!.BootstrapServers} (retrying; streamdetect.kafka.unavailable-timeout stops the run)"
        : _kafka is not null && !(_kafka.Control.IsCompletedSuccessfully && _kafka.Control.Result.Joined) ? "the Kafka consumer has no partition assignment from its group yet"
        : null;

    /// <summary>
    /// Whether the Kafka consumer reaches a broker: false while librdkafka reports every broker down and none has
    /// answered since (an outage, retried with backoff), true otherwise; null without a Kafka consumer (yet).
    /// </summary>
    public bool? KafkaBrokersReachable =>
        _kafka is { Control.IsCompletedSuccessfully: true } kafka ? !kafka.Control.Result.BrokersUnreachable : null;

    /// <summary>The engine while it runs (for metrics: what this node hosts), else null.</summary>
    public EngineHost? Host { get; private set; }

    /// <summary>The Kafka consumer's lag per owned partition (empty without Kafka or before its start).</summary>
    public IReadOnlyList<PartitionLag> KafkaLag =>
        _kafka is { Control.IsCompletedSuccessfully: true } kafka ? kafka.Control.Result.Lag : [];

    public ReadProgress Progress { get; } = new();

    /// <summary>Alerts from before a crash found in the output already (not written again).</summary>
    public long AlreadyInOutput => Interlocked.Read(ref _alreadyInOutput);

    private long _alreadyInOutput;

    /// <summary>What the run is doing before its stream starts (for progress lines): checking, training, starting.</summary>
    public string Phase { get; private set; } = "checking the options, files and brokers";

    public async Task<RunOutcome> RunAsync(CancellationToken cancellation)
    {
        var plan = RunPlan.Create(_request);
        foreach (string warning in plan.Warnings) _log.WriteLine($"warning: {warning}");
        Phase = _request.IngestOnly ? "starting" : _request.ModelPath is null ? "training the model" : "loading the model";
        // Before the model is trained into DATA_DIR/models or a fresh state deletes anything: a second run on
        // the data directory is refused at once. The engine host shares it (the same process).
        using var dataLock = plan.Engine.Store.Kind == "memory" ? null : Persistence.DataDirectoryLock.Acquire(plan.Engine.Store.DataDirectory, _log);
        var model = _request.IngestOnly ? null : AcquireModel(plan, cancellation);
        if (plan.FreshState) ResetStore(plan, model);
        if (model is not null) RegisterModel(plan, model);
        Phase = "starting the engine and recovering the persisted state";
        var host = await StartEngineAsync(plan, model, cancellation);
        await using (host)
        {
            try
            {
                using var scorer = model is null ? null : new Scorer(model.Detector, plan.Scorer);
                Host = host;
                try
                {
                    return await RunBuiltAsync(plan, host, model, scorer, cancellation);
                }
                finally
                {
                    Host = null;
                }
            }
            finally
            {
                // After the scorer's thread stopped: no batch uses the schedule's detectors any more.
                Scoring?.CloseOnline();
            }
        }
    }

    private async Task<RunOutcome> RunBuiltAsync(RunPlan plan, EngineHost host, TrainedModel? model, Scorer? scorer, CancellationToken cancellation)
    {
        var build = await BuildAsync(plan, host, model, scorer);
        IngestResult result;
        try
        {
            result = await RunStreamAsync(plan, build, cancellation);
        }
        finally
        {
            _streaming = false;
            Phase = "ended";
            if (build.Feedback is not null) await build.Feedback.StopAsync();
        }
        // The gauges of what this node hosts show the end state, not the last periodic look.
        if (Metrics is { } metrics) await metrics.RefreshOccupancyAsync(host);
        var outcome = Report(build, result, host, model);
        if (_memory is { } memory) outcome.Summary.Memory = memory.PerUser(outcome.Summary.Entities?.UsersInState ?? 0);
        return outcome;
    }

    /// <summary>What <see cref="BuildAsync"/> wired: the input, the downstream the routed events feed, the scoring loop and its first requests.</summary>
    private sealed record RunBuild(
        OpenedInput Input,
        Sink<ScoringRequest, Task> Downstream,
        ScoringContext? Scoring,
        Source<ScoringRequest, NotUsed>? Rescoring,
        FeedbackInputs? Feedback);

    private async Task<RunBuild> BuildAsync(RunPlan plan, EngineHost host, TrainedModel? model, Scorer? scorer)
    {
        var input = plan.Input.Open(plan, new InputContext(new EventParser(plan.Validation), Progress, host.System.Materializer()));
        Ingest = new IngestJob(host);
        if (model is null || scorer is null) return new RunBuild(input, IngestJob.CountingSink(), null, null, null);

        // Thresholds refer to the evaluated period when the run trained on its own traffic.
        var thresholds = model.TrainedUntilMs is not null && plan.Input.EvaluatedDays(plan) is double days && days > 0
            ? plan.Thresholds with { PeriodDays = days }
            : plan.Thresholds;
        var report = new DetectionReport(model.TrainedUntilMs ?? long.MinValue, input.Truth);
        var ledger = new Stages.Ordering.DecisionLedger();
        var online = Online?.Invoke(new OnlineScoringStart(model.Detector, ledger, thresholds, plan.Config) { TrainedOn = model.TrainingData, Truth = input.Truth, System = host.System });
        var schedule = online?.Schedule;
        // Each model decides with its own fitted thresholds: a version the schedule brought is found there.
        Scoring = ScoringPipeline.Create(host, scorer, plan.Config, thresholds,
            key => FittedThresholds(schedule?.DetectorFor(key) ?? model.Detector, key, thresholds), report, ledger, online,
            schedule is null ? null : ShadowAlertsPath(plan));
        Scoring.Metrics = Metrics;
        if (CollectEvaluation)
        {
            // The report measures at the model's own threshold for the run's alert rate and period, as eval would; the
            // run's alerts were decided per segment (online thresholds), and the report shows those alerts as they were.
            double threshold = FittedThresholds(model.Detector, model.Detector.StateKey, thresholds)?.Alert
                ?? thresholds.Fixed.GetValueOrDefault("established", 4.0);
            Evaluation = new Reporting.RunEvaluationCollector(report.FromMs, input.Truth, threshold, thresholds.AlertRate);
            Scoring.Evaluation = Evaluation;
        }
        var context = Scoring.Context;

        // What the store held before this run: a fresh state starts a fresh alert file; after a crash, users
        // whose events were never confirmed scored are scored first, and alerts journaled but never confirmed
        // delivered go out again (unless the output holds them).
        var before = await host.PartitionStatsAsync(TimeSpan.FromSeconds(120));
        bool freshStore = plan.FreshState || before.Sum(p => p.EventsApplied) == 0;
        var pending = plan.Engine.Entities.RescoreAfterCrash ? await host.TakeRescoringAsync(context.Inbox, TimeSpan.FromSeconds(120)) : [];
        var rescored = pending.SelectMany(r => r.Requests).ToList();
        if (rescored.Count > 0) _log.WriteLine($"after a crash: {rescored.Count:N0} users have events persisted but never confirmed scored; they are scored first");
        Redeliver(plan, pending.SelectMany(r => r.UndeliveredAlerts).ToList(), context, host);
        context.RedeliveryCheck = alerts => Task.Run(() => CheckRedeliveries(plan, alerts, host));

        var output = plan.AlertOutput.Open(plan, freshStore, _log);
        var downstream = Scoring.Sink(output, _request.DumpFeatures is { } dump ? FeatureDumpSink.Create(dump) : null);
        // Analysts' verdicts (a file, a Kafka topic) move the thresholds while the run goes on.
        var feedback = FeedbackInputs.Start(plan.Config, plan.Thresholds, Scoring.Decider, host.Partitions, userId => UserPartitioner.PartitionOf(userId, plan.Engine.Routing),
            input.Kafka is not null, host.System.Materializer(), _log, online?.Feedback);
        return new RunBuild(input, downstream, context, rescored.Count > 0 ? Source.From(rescored) : null, feedback);
    }

    private async Task<IngestResult> RunStreamAsync(RunPlan plan, RunBuild build, CancellationToken cancellation)
    {
        var kafka = build.Input.Kafka;
        _kafka = kafka;
        _streaming = true;
        try
        {
            var running = Ingest!.RunAsync(RateLimit.Apply(build.Input.Events, plan.Run.Rate), build.Downstream, () => Progress.Records,
                kafka is null ? cancellation : CancellationToken.None, kafka?.Acks(), build.Rescoring, build.Scoring, plan.Scorer.MaxUnsettledEvents,
                () => _inputEnded, MeasureMemory ? () => _memory = MemorySummary.Measure() : null);
            // streamdetect.routing.colocate: the user partitions of this consumer's Kafka partitions are placed on this node.
            using var placement = kafka is not null && ColocatesWithKafka(plan)
                ? Hosting.KafkaShardPlacement.TryStart(Host!.System, kafka.Control,
                    Hosting.KafkaShardPlacement.TopicPartitionCounts(KafkaConsumerSettings.Create(plan.Config)), plan.Engine.Routing.Partitions, _log)
                : null;
            return kafka is null ? await running : await RunKafkaAsync(kafka, running, cancellation);
        }
        catch (Exception e) when (_request.Input is not null && e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"cannot read '{_request.Input}': {e.Message}", e);
        }
        catch (FormatException e) when (_request.Input is not null)
        {
            throw new UserInputException($"'{_request.Input}': {e.Message}", e);
        }
        finally
        {
            // The scoring inbox lives as long as this stream: the partitions watch it, and once it is gone they issue what
            // they had handed it (or still would, in a cluster where other streams go on) to a live stream. Stopped after
            // the final flush, which every partition answers after the alert deliveries sent before it. (It lived on
            // until the node shut down: follow-ups sent to a finished stream were lost quietly meanwhile.)
            if (build.Scoring?.Inbox is { } inbox) Host?.System.Stop(inbox);
        }
    }

    private RunOutcome Report(RunBuild build, IngestResult result, EngineHost host, TrainedModel? model)
    {
        var summary = RunSummaryBuilder.Build(build.Input.Description, result, host.Settings, build.Input.Truth);
        if (build.Input.Kafka is { } kafka) summary.EventsLostToRetention = kafka.LostToRetention;
        if (Scoring is not null && model is not null) RunSummaryBuilder.AddScoring(summary, Scoring, model, Scoring.Scorer.Detector, AlreadyInOutput);
        return new RunOutcome(summary, model);
    }

    private TrainedModel AcquireModel(RunPlan plan, CancellationToken cancellation)
    {
        if (_request.ModelPath is string path)
        {
            var detector = ModelProvider.Load(path, plan.Device);
            _log.WriteLine($"model {detector.Name}@{detector.Version} from {path}");
            if (plan.FixedAtTraining.Count > 0)
                _log.WriteLine($"note: {string.Join(", ", plan.FixedAtTraining)} {(plan.FixedAtTraining.Count == 1 ? "applies" : "apply")} when a model is trained; " +
                    $"the loaded model keeps what it was trained with (it decides by: {detector.DecisionRule})");
            return new TrainedModel(detector, null, path, TimeSpan.Zero);
        }
        var (events, cut) = plan.Input.TrainingEvents(plan);
        string? saveTo = plan.Run.SaveModel && plan.Engine.Store.Kind != "memory" ? Path.Combine(plan.Engine.Store.DataDirectory, "models") : null;
        return ModelProvider.Train(plan.Config, plan.Run, events, cut, plan.Device, saveTo, _log, cancellation);
    }

    /// <summary>The run's model becomes a version of the store's model registry, and its champion when there is none (memory stores keep no registry).</summary>
    private void RegisterModel(RunPlan plan, TrainedModel model)
    {
        if (plan.Engine.Store.Kind == "memory") return;
        var detail = model.TrainedUntilMs is long until
            ? new Registry.OriginDetail(EventsUntil: DateTimeOffset.FromUnixTimeMilliseconds(until), Source: $"run: the first {plan.Run.TrainDays:g} days of its traffic")
            : new Registry.OriginDetail(Source: $"model file {model.Path}");
        try
        {
            Registry.StartupRegistration.Register(plan.Engine.Store, model.Detector, detail, _log);
        }
        catch
        {
            model.Detector.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the user partitions follow the Kafka partitions (<c>streamdetect.routing.colocate</c>): on a Kafka run whose
    /// entities are users (the records' key); otherwise sharding's default allocation.
    /// </summary>
    private static bool ColocatesWithKafka(RunPlan plan) =>
        plan.Engine.Routing.Colocate && plan.Input.Kind == Inputs.EventSourceKind.Kafka && plan.Engine.Entities.EntityKey == "user";

    private static async Task<EngineHost> StartEngineAsync(RunPlan plan, TrainedModel? model, CancellationToken cancellation)
    {
        try
        {
            return await EngineHost.StartAsync(plan.Config, cluster: true, cancellation, colocateWithKafka: ColocatesWithKafka(plan));
        }
        catch (InvalidOperationException e)
        {
            model?.Detector.Dispose();
            throw new UserInputException(e.Message, e);
        }
    }

    /// <summary>
    /// Alerts the partitions journaled before a crash but never saw delivered: those the output already holds
    /// are confirmed delivered now, the others go out again first.
    /// </summary>
    private void Redeliver(RunPlan plan, List<AlertRecord> undelivered, ScoringContext context, EngineHost host)
    {
        if (undelivered.Count == 0) return;
        context.AddRedeliveries(NotYetWritten(plan, undelivered, host, "after a crash: {0:N0} alerts were journaled but not confirmed delivered"));
    }

    /// <summary>
    /// Alerts a partition journaled but never saw delivered, handed out when it recovered while this run goes on (in a
    /// cluster: its node was killed, or it moved): as <see cref="Redeliver"/>, except that an output that cannot be read
    /// back now gets them all again (at least once; consumers drop repeated alertIds) rather than failing the run.
    /// </summary>
    private IReadOnlyList<AlertRecord> CheckRedeliveries(RunPlan plan, IReadOnlyList<AlertRecord> undelivered, EngineHost host)
    {
        try
        {
            return NotYetWritten(plan, undelivered, host, "a recovered partition handed out {0:N0} alerts journaled but not confirmed delivered");
        }
        catch (UserInputException e)
        {
            _log.WriteLine($"a recovered partition handed out {undelivered.Count:N0} alerts not confirmed delivered; {e.Message}; they go out again");
            return undelivered;
        }
    }

    /// <summary>
    /// Looks the alerts up in the output: those it holds (written, their delivery not journaled) are confirmed delivered
    /// to their partitions and counted; returns the others, to go out again. <paramref name="what"/> starts the log line.
    /// </summary>
    private List<AlertRecord> NotYetWritten(RunPlan plan, IReadOnlyList<AlertRecord> undelivered, EngineHost host, string what)
    {
        var present = plan.AlertOutput.AlreadyWritten(plan, undelivered.Select(a => a.AlertId).ToList());
        foreach (var group in undelivered.Where(a => present.Contains(a.AlertId)).GroupBy(a => UserPartitioner.PartitionOf(a.UserId, plan.Engine.Routing)))
            host.Partitions.Tell(new AlertsDelivered(group.Key, group.Select(a => a.AlertId).ToArray()));
        Interlocked.Add(ref _alreadyInOutput, present.Count);
        _log.WriteLine(string.Format(System.Globalization.CultureInfo.CurrentCulture, what, undelivered.Count) +
                       $"; {present.Count:N0} of them are in the output already, the others go out again");
        return undelivered.Where(a => !present.Contains(a.AlertId)).ToList();
    }

    /// <summary>Removes an earlier run's per-user state (streamdetect.run.fresh-state); a store that cannot be reset is a user error.</summary>
    private void ResetStore(RunPlan plan, TrainedModel? model)
    {
        var store = plan.Engine.Store;
        long removed;
        try
        {
            removed = Persistence.StoreReset.Reset(store);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            model?.Detector.Dispose();
            throw new UserInputException(e.Message, e);
        }
        if (removed > 0)
            _log.WriteLine($"fresh state: removed the per-user state of an earlier run in {store.DataDirectory} ({removed / 1048576.0:F1} MiB; " +
                           $"streamdetect.run.fresh-state = {plan.Run.FreshState.ToString().ToLowerInvariant()}, set off to resume from it)");
    }

    /// <summary>Where shadow alerts go: <c>run --shadow-alerts FILE</c>, else DATA_DIR/shadow-alerts.jsonl (none for a memory store: counted only).</summary>
    private string? ShadowAlertsPath(RunPlan plan) =>
        _request.ShadowAlertsPath ?? (plan.Engine.Store.Kind == "memory" ? null : Path.Combine(plan.Engine.Store.DataDirectory, "shadow-alerts.jsonl"));

    /// <summary>The model's thresholds for the period: the wanted rate per active entity, through the activity of the
    /// model's calibration entities stretched to the period (every entity active every day for an older model).</summary>
    private static ModelThreshold? FittedThresholds(IAnomalyDetector detector, string key, ThresholdSettings thresholds)
    {
        if (key != detector.StateKey || !detector.Threshold.IsFitted) return null;
        var threshold = detector.Threshold;
        var activity = threshold.Activity?.Over(thresholds.PeriodDays) ?? EntityActivity.EveryDay(thresholds.PeriodDays);
        return new ModelThreshold(threshold.For(thresholds.AlertRate, activity), threshold.AtUserDayRate(thresholds.ReferenceRate))
        {
            PerDayRate = activity.PerActiveDayRate(thresholds.AlertRate),
            FollowsRule = threshold.DecisionScore is not null,
        };
    }

    /// <summary>
    /// A Kafka run ends on Ctrl-C, or after --stop-after-idle without a record: the consumer stops
    /// emitting, the pipeline finishes what is in flight, the last offsets are committed, the consumer
    /// leaves its group.
    /// </summary>
    private async Task<IngestResult> RunKafkaAsync(KafkaEventSource kafka, Task<IngestResult> running, CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var idle = _request.StopAfterIdle;
        var idleWatch = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(200, stop.Token);
                if (idle is TimeSpan limit && kafka.IdleMilliseconds >= limit.TotalMilliseconds) return;
            }
        }, CancellationToken.None);

        var first = await Task.WhenAny(running, idleWatch);
        if (first != running)
        {
            _inputEnded = !cancellation.IsCancellationRequested;
            await kafka.StopAsync();
            _log.WriteLine(cancellation.IsCancellationRequested ? "stopping: draining and committing" : $"no record for {idle?.TotalSeconds} s: draining and committing");
        }
        stop.Cancel();
        try
        {
            _streaming = false;
            return await running.WaitAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        }
        finally
        {
            await kafka.CompleteAsync();
        }
    }
}
