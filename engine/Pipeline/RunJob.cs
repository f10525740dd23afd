using StreamDetect.Engine.Configuration;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Hosting;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Ordering;
using StreamDetect.Stages.Partitions;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The main job end to end: a model (loaded, or trained on the traffic's first days), then the stream
/// source -> parse/validate -> user partitions (persisted) -> micro-batcher -> scorer -> thresholds ->
/// alerts, with live progress and a final report.
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

    /// <summary>Set while the stream runs (for progress lines).</summary>
    public IngestJob? Ingest { get; private set; }

    public ScoringPipeline? Scoring { get; private set; }

    public ReadProgress Progress { get; } = new();

    public async Task<RunOutcome> RunAsync(CancellationToken cancellation)
    {
        var config = _request.Config;
        if (_request.IngestOnly && _request.DumpFeatures is not null)
            throw new UserInputException("--dump-features writes the features of scored events: it cannot be combined with --ingest-only");
        // Nothing scores in an ingest-only run: its events are not waiting for a scorer's confirmation.
        if (_request.IngestOnly)
            config = Akka.Configuration.ConfigurationFactory.ParseString("streamdetect.entities.rescore-after-crash = off").WithFallback(config);
        var run = RunSettings.Create(config);
        var validation = ValidationSettings.Create(config);
        var deadLetterSettings = DeadLetterSettings.Create(config);
        var alertSettings = AlertSettings.Create(config);
        var thresholdSettings = ThresholdSettings.Create(config);
        var scorerSettings = ScorerSettings.Create(config);
        var batcherSettings = MicroBatcherSettings.Create(config);
        string device = _request.Device ?? new Stages.Configuration.SettingsReader(config, "streamdetect.models").OneOf("device", "auto", "cpu", "cuda");
        var engineSettings = EngineSettings.Create(config);

        if (thresholdSettings.FeedbackFile is { Length: > 0 } feedbackFilePath && !File.Exists(feedbackFilePath))
            throw new UserInputException($"feedback file '{feedbackFilePath}' does not exist (create it empty to append labels during the run)");

        GeneratorSettings? generatorSettings = _request.Source == "generator" ? GeneratorSettings.Create(config) : null;
        TrainedModel? model = _request.IngestOnly ? null : AcquireModel(run, generatorSettings, validation, device, engineSettings);

        bool freshState = run.FreshState == "on" || (run.FreshState == "auto" && _request.Source == "generator" && engineSettings.Store.Kind == "sqlite");
        if (freshState) ResetStore(engineSettings.Store, run.FreshState, model);

        EngineHost host;
        try
        {
            host = await EngineHost.StartAsync(config, cluster: true, cancellation);
        }
        catch (InvalidOperationException e)
        {
            model?.Detector.Dispose();
            throw new UserInputException(e.Message, e);
        }

        await using (host)
        using (var scorer = model is null ? null : new Scorer(model.Detector, scorerSettings))
        {
            var materializer = host.System.Materializer();
            var parser = new EventParser(validation);
            IReadOnlyDictionary<string, string>? truth = null;
            string sourceName;
            KafkaEventSource? kafka = null;
            Source<IngestedEvent, Task<DeadLetterSummary>> events;
            switch (_request.Source)
            {
                case "generator":
                {
                    var generator = new TrafficGenerator(generatorSettings!);
                    truth = generator.Truth;
                    sourceName = $"generator ({generatorSettings!.Users:N0} users, {generatorSettings.Days} days, seed {generatorSettings.Seed})";
                    events = EventSources.FromGenerator(generator, Progress);
                    break;
                }
                case "kafka":
                {
                    var consumer = KafkaConsumerSettings.Create(config);
                    var producer = _request.DeadLetterSink == "kafka" ? KafkaProducerSettings.Create(config) : null;
                    kafka = new KafkaEventSource(consumer, producer, parser, deadLetterSettings.MaxRawBytes, materializer);
                    sourceName = $"kafka {string.Join(",", consumer.Topics)} @ {consumer.BootstrapServers} (group {consumer.GroupId})";
                    events = kafka.Events(Progress);
                    break;
                }
                default:
                {
                    string input = _request.Input!;
                    var reader = new RecordFileReader(input, validation.MaxRecordBytes, deadLetterSettings.MaxRawBytes, FileSourceSettings.Create(config).BufferSize);
                    var sink = _request.DeadLetterSink == "file" ? DeadLetterFileSink.Create(_request.DeadLetterPath!, deadLetterSettings) : DeadLetterFileSink.CountOnly();
                    events = EventSources.FromFile(reader, parser, sink, Progress);
                    sourceName = input;
                    if (TruthFile.FindBeside(input) is { } truthPath) truth = TruthFile.Read(truthPath);
                    break;
                }
            }

            Ingest = new IngestJob(host);
            Sink<ScoringRequest, Task> downstream;
            ScoringContext? context = null;
            Source<ScoringRequest, NotUsed>? rescoring = null;
            if (model is null || scorer is null)
            {
                downstream = IngestJob.CountingSink();
            }
            else
            {
                // Thresholds refer to the evaluated period when the run trained on its own traffic.
                double? evaluatedDays = generatorSettings is not null && model.TrainedUntilMs is not null ? generatorSettings.Days - run.TrainDays : null;
                var thresholds = evaluatedDays is double days && days > 0 ? thresholdSettings with { PeriodDays = days } : thresholdSettings;
                var report = new DetectionReport(model.TrainedUntilMs ?? long.MinValue, truth);
                Scoring = ScoringPipeline.Create(host, scorer, config, thresholds, key => FittedThresholds(model.Detector, key, thresholds), report);
                context = Scoring.Context;

                // What the store held before this run: a fresh state starts a fresh alert file; after a crash,
                // users whose events were never confirmed scored are scored first, and alerts journaled but
                // never confirmed delivered go out again (unless the output holds them).
                var before = await host.PartitionStatsAsync(TimeSpan.FromSeconds(120));
                bool freshStore = freshState || before.Sum(p => p.EventsApplied) == 0;
                var pending = engineSettings.Entities.RescoreAfterCrash ? await host.TakeRescoringAsync(context.Inbox, TimeSpan.FromSeconds(120)) : [];
                var rescored = pending.SelectMany(r => r.Requests).ToList();
                if (rescored.Count > 0)
                {
                    _log.WriteLine($"after a crash: {rescored.Count:N0} users have events persisted but never confirmed scored; they are scored first");
                    rescoring = Source.From(rescored);
                }
                Redeliver(pending.SelectMany(r => r.UndeliveredAlerts).ToList(), config, alertSettings, context, host, engineSettings.Routing.Partitions);

                var output = _request.AlertSink switch
                {
                    "file" => AlertOutputs.File(_request.AlertsPath!, freshStore, _log),
                    "stdout" => AlertOutputs.Stdout(),
                    "kafka" => AlertOutputs.Kafka(KafkaProducerSettings.Create(config)),
                    _ => AlertOutputs.None(),
                };
                downstream = Scoring.Sink(output, _request.DumpFeatures is { } dump ? FeatureDumpSink.Create(dump) : null);
            }

            // Analysts' verdicts (a file, a Kafka topic) move the thresholds while the run goes on.
            var feedback = Scoring is null ? null : FeedbackInputs.Start(config, thresholdSettings, Scoring.Decider, host.Partitions, engineSettings.Routing.Partitions,
                kafka is not null, materializer, _log);

            IngestResult result;
            try
            {
                var running = Ingest.RunAsync(events, downstream, () => Progress.Records,
                    kafka is null ? cancellation : CancellationToken.None, kafka?.Acks(), rescoring, context, scorerSettings.MaxUnsettledEvents);
                result = kafka is null ? await running : await RunKafkaAsync(kafka, running, cancellation);
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
                if (feedback is not null) await feedback.StopAsync();
            }

            var summary = RunSummaryBuilder.Build(sourceName, result, host.Settings, truth);
            if (Scoring is not null && model is not null) RunSummaryBuilder.AddScoring(summary, Scoring, model, Scoring.Scorer.Detector, AlreadyInOutput);
            return new RunOutcome(summary, model);
        }
    }

    private TrainedModel AcquireModel(RunSettings run, GeneratorSettings? generator, ValidationSettings validation, string device, EngineSettings engine)
    {
        if (_request.ModelPath is string path)
        {
            var detector = ModelProvider.Load(path, device);
            _log.WriteLine($"model {detector.Name}@{detector.Version} from {path}");
            return new TrainedModel(detector, null, path, TimeSpan.Zero);
        }
        if (_request.Source == "kafka")
            throw new UserInputException("--source kafka needs a trained model: --model FILE (train one with `streamdetect train`), or --ingest-only");

        string? saveTo = run.SaveModel && engine.Store.Kind != "memory" ? Path.Combine(engine.Store.DataDirectory, "models") : null;
        if (generator is not null)
        {
            long cut = new DateTimeOffset(DateTime.SpecifyKind(generator.Start, DateTimeKind.Utc)).ToUnixTimeMilliseconds() + (long)(run.TrainDays * 86_400_000);
            if (run.TrainDays >= generator.Days)
                throw new UserInputException($"streamdetect.run.train-days ({run.TrainDays}) leaves nothing of the {generator.Days} generated days to evaluate");
            var events = new TrafficGenerator(generator).Events().TakeWhile(e => e.TimestampMs < cut);
            return ModelProvider.Train(_request.Config, run, events, cut, device, saveTo, _log);
        }
        var fileEvents = EventFile.Read(_request.Input!, validation);
        return ModelProvider.Train(_request.Config, run, fileEvents, null, device, saveTo, _log);
    }

    /// <summary>
    /// Alerts the partitions journaled before a crash but never saw delivered: those the output already holds
    /// are confirmed delivered now, the others go out again first.
    /// </summary>
    private void Redeliver(List<AlertRecord> undelivered, Akka.Configuration.Config config, AlertSettings alerts, ScoringContext context, EngineHost host, int partitions)
    {
        if (undelivered.Count == 0) return;
        var ids = undelivered.Select(a => a.AlertId).ToList();
        HashSet<string> present;
        switch (_request.AlertSink)
        {
            case "file":
                present = EmittedAlerts.InFile(_request.AlertsPath!, ids);
                break;
            case "kafka":
                var producer = KafkaProducerSettings.Create(config);
                try
                {
                    present = EmittedAlerts.InTopic(producer, alerts.ReadBack, TimeSpan.FromSeconds(30), ids);
                }
                catch (Confluent.Kafka.KafkaException e)
                {
                    throw new UserInputException($"could not read back the alert topic '{producer.AlertsTopic}' at {producer.BootstrapServers}: {e.Error.Reason} " +
                                                 "(streamdetect.alerts.read-back = 0 skips it)", e);
                }
                break;
            default:
                present = [];
                break;
        }
        foreach (var group in undelivered.Where(a => present.Contains(a.AlertId)).GroupBy(a => Stages.Routing.UserPartitioner.PartitionOf(a.UserId, partitions)))
            host.Partitions.Tell(new AlertsDelivered(group.Key, group.Select(a => a.AlertId).ToArray()));
        AlreadyInOutput = present.Count;
        _log.WriteLine($"after a crash: {undelivered.Count:N0} alerts were journaled but not confirmed delivered; {present.Count:N0} of them are in the output already, the others go out again");
        context.AddRedeliveries(undelivered.Where(a => !present.Contains(a.AlertId)));
    }

    /// <summary>Alerts from before a crash found in the output already (not written again).</summary>
    public long AlreadyInOutput { get; private set; }

    /// <summary>Removes an earlier run's per-user state (streamdetect.run.fresh-state); a store that cannot be reset is a user error.</summary>
    private void ResetStore(Persistence.StoreSettings store, string freshState, TrainedModel? model)
    {
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
            _log.WriteLine($"fresh state: removed the per-user state of an earlier run in {store.DataDirectory} ({removed / 1048576.0:F1} MiB; streamdetect.run.fresh-state = {freshState}, set off to resume from it)");
    }

    private static ModelThreshold? FittedThresholds(IAnomalyDetector detector, string key, ThresholdSettings thresholds) =>
        key == detector.StateKey && detector.Threshold.IsFitted
            ? new ModelThreshold(detector.Threshold.For(thresholds.AlertRate, thresholds.PeriodDays), detector.Threshold.For(thresholds.ReferenceRate))
            : null;

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
            await kafka.StopAsync();
            _log.WriteLine(cancellation.IsCancellationRequested ? "stopping: draining and committing" : $"no record for {idle?.TotalSeconds} s: draining and committing");
        }
        stop.Cancel();
        try
        {
            return await running.WaitAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        }
        finally
        {
            await kafka.CompleteAsync();
        }
    }
}
