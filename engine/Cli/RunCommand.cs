using StreamDetect.Engine.Configuration;
using System.CommandLine;
using System.Text;
using StreamDetect.Engine.Reporting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Alerts;
using StreamDetect.Engine.Telemetry;

namespace StreamDetect.Engine.Cli;

/// <summary>`streamdetect run`: the main job.</summary>
public static class RunCommand
{
    private static readonly Option<string?> Input = new("--input", "-i")
    {
        Description = "Event file to read: JSON Lines, or CSV with a header (or headerless Taobao UserBehavior); '-' reads JSON Lines from stdin. Without it (and without --source kafka), the built-in generator's traffic is used",
    };

    private static readonly Option<string?> SourceKind = new("--source")
    {
        Description = "Where events come from: file (--input), generator, or kafka (streamdetect.kafka.consumer; see --bootstrap, --topic, --group). Default: file when --input is given, else generator",
    };

    private static readonly Option<string?> DeadLetters = new("--dead-letters")
    {
        Description = "JSON Lines file for rejected records (raw record, reason, file:line); created or truncated. Default: count only (or the Kafka dead-letter topic with --source kafka and --dead-letter-topic)",
    };

    private static readonly Option<string?> SummaryJson = new("--summary-json")
    {
        Description = "Also write the run's summary as JSON to this file",
    };

    private static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = "Directory of the embedded store (SQLite) for per-user state; default ./data (streamdetect.store.data-dir)",
    };

    private static readonly Option<string?> DumpFeatures = new("--dump-features")
    {
        Description = "Write the feature vector of every scored event as JSON Lines to this file (for inspection; needs scoring, not --ingest-only)",
    };

    private static readonly Option<string?> ShadowAlerts = new("--shadow-alerts")
    {
        Description = "Online learning: write the alerts a shadow model would have raised (never emitted) as JSON Lines to this file; default DATA_DIR/shadow-alerts.jsonl, created at the first one",
    };

    private static readonly Option<string?> Bootstrap = new("--bootstrap")
    {
        Description = "Kafka bootstrap servers HOST:PORT[,...] (streamdetect.kafka.bootstrap-servers)",
    };

    private static readonly Option<string?> Topic = new("--topic")
    {
        Description = "Kafka topic to consume events from (streamdetect.kafka.consumer.topics)",
    };

    private static readonly Option<string?> Group = new("--group")
    {
        Description = "Kafka consumer group (streamdetect.kafka.consumer.group-id); engines in one group split the partitions",
    };

    private static readonly Option<string?> AlertsTopic = new("--alerts-topic")
    {
        Description = "Kafka topic for alerts (streamdetect.kafka.producer.alerts-topic)",
    };

    private static readonly Option<string?> Feedback = new("--feedback")
    {
        Description = "JSON Lines file of analysts' feedback labels ({\"userId\",\"label\":0|1,\"alertId\"?}), followed while the run goes on (lines appended later count too); they move the thresholds (streamdetect.thresholds.feedback)",
    };

    private static readonly Option<string?> FeedbackTopic = new("--feedback-topic")
    {
        Description = "With --source kafka: read analysts' feedback labels ({\"userId\",\"label\":0|1,\"alertId\"?}) from this topic; they move the thresholds (streamdetect.kafka.feedback)",
    };

    private static readonly Option<string?> DeadLetterTopic = new("--dead-letter-topic")
    {
        Description = "Kafka topic for rejected records; with --source kafka, dead letters go there and their offsets are committed once written",
    };

    private static readonly Option<string?> Model = new("--model", "-m")
    {
        Description = "A trained model file (streamdetect train). Without it, the run trains streamdetect.run.model on the first streamdetect.run.train-days of its traffic",
    };

    private static readonly Option<string?> Device = new("--device")
    {
        Description = "Where the model runs: cpu, cuda or auto (cuda when available); default streamdetect.models.device",
    };

    private static readonly Option<string?> Alerts = new("--alerts")
    {
        Description = "JSON Lines file (or named pipe) for alerts, one whole line per write: started anew on a fresh state; on kept state appended to, after cutting a partial last line a crash left (every alert still appears once). Default: alerts go to stdout and the report to stderr",
    };

    private static readonly Option<bool> IngestOnly = new("--ingest-only")
    {
        Description = "Only validate events and keep the persisted per-user state (no model, no scoring, no alerts)",
    };

    private static readonly Option<double?> StopAfterIdle = new("--stop-after-idle")
    {
        Description = "With --source kafka: finish cleanly (drain, commit, summary) once no record arrived or finished for this many seconds, counted from the group join (a backpressured run is busy, not idle). Default: run until Ctrl-C",
    };

    private static readonly Option<int?> MetricsPort = new("--metrics-port")
    {
        Description = "Serve Prometheus metrics (/metrics) and health (/health/live, /health/ready) on this port while the run goes on (streamdetect.metrics.prometheus)",
    };

    private static readonly Option<double?> Rate = new("--rate")
    {
        HelpName = "EVENTS_PER_S",
        Description = "Hold the source to this many events per second (streamdetect.run.rate; 0: as fast as the engine takes them): soak tests, latency at a fixed load",
    };

    private static readonly Option<bool> MeasureMemory = new("--measure-memory")
    {
        Description = "Once the stream is done, before the partitions' final flush: a full compacting garbage collection, then the process's resident bytes and the managed heap (and both per user in state) in the report and --summary-json (`memory`)",
    };

    private static readonly Option<string?> Report = new("--report")
    {
        HelpName = "DIR",
        Description = "At the end of the run write DIR/report.html with PNG figures beside it, as `eval --report` does, from the run's own scores and alerts (ROC and precision-recall curves and the per-scenario tables need labelled input; without labels the page says so)",
    };

    private static readonly Option<string?> OnlineLearning = new("--online-learning")
    {
        HelpName = "on|off",
        Description = "Fine-tune the model on the run's own traffic (guarded samples, gates, shadow, promotion at event-time boundaries, rollback; streamdetect.online-learning). Default: streamdetect.online-learning.enabled (off; auto: on for the generator's traffic, off for --input and Kafka)",
    };

    static RunCommand()
    {
        Rate.Validators.Add(result =>
        {
            double? value = result.GetValueOrDefault<double?>();
            if (value is double rate && (!double.IsFinite(rate) || rate < 0))
                result.AddError($"--rate must be 0 (as fast as the engine takes them) or a positive number of events per second (got {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        });
    }

    public static Command Create()
    {
        var command = new Command("run",
            "Run the main job: read events (file, generator or Kafka), validate them (bad records to dead letters), keep per-user state (persisted), score users with the model in micro-batches, and emit explained alerts; prints live progress and a final report");
        foreach (var option in new Option[] { Input, SourceKind, IngestOnly, Model, Device, Alerts, DeadLetters, SummaryJson, DataDir, DumpFeatures, Bootstrap, Topic, Group, AlertsTopic, DeadLetterTopic, Feedback, FeedbackTopic, StopAfterIdle, MetricsPort, Report, ShadowAlerts, Rate, MeasureMemory, OnlineLearning })
            command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token => ExecuteAsync(parse, token), cancellation));
        return command;
    }

    /// <summary>HOCON overrides for the options that mirror settings.</summary>
    private static string Overrides(ParseResult parse)
    {
        var hocon = new StringBuilder();
        void Set(string key, string? value)
        {
            if (value is not null) hocon.Append(key).Append(" = ").Append(HoconString(value)).Append('\n');
        }
        Set("streamdetect.store.data-dir", parse.GetValue(DataDir));
        Set("streamdetect.source", parse.GetValue(SourceKind));
        Set("streamdetect.kafka.bootstrap-servers", parse.GetValue(Bootstrap));
        if (parse.GetValue(Bootstrap) is string servers)
        {
            Set("streamdetect.kafka.consumer.bootstrap-servers", servers);
            Set("streamdetect.kafka.producer.bootstrap-servers", servers);
        }
        if (parse.GetValue(Topic) is string topic) hocon.Append($"streamdetect.kafka.consumer.topics = [{HoconString(topic)}]\n");
        Set("streamdetect.kafka.consumer.group-id", parse.GetValue(Group));
        if (parse.GetValue(AlertsTopic) is string alertsTopic)
        {
            Set("streamdetect.kafka.producer.alerts-topic", alertsTopic);
            Set("streamdetect.alerts.sink", "kafka");
        }
        Set("streamdetect.thresholds.feedback.file", parse.GetValue(Feedback));
        if (parse.GetValue(FeedbackTopic) is string feedbackTopic)
        {
            hocon.Append($"streamdetect.kafka.feedback.topics = [{HoconString(feedbackTopic)}]\n");
            Set("streamdetect.kafka.feedback.enabled", "on");
        }
        if (parse.GetValue(Device) is string device) Set("streamdetect.models.device", device);
        if (parse.GetValue(DeadLetterTopic) is string dlq)
        {
            Set("streamdetect.kafka.producer.dead-letters-topic", dlq);
            Set("streamdetect.dead-letters.sink", "kafka");
        }
        Set("streamdetect.online-learning.enabled", OnOff(parse.GetValue(OnlineLearning), "--online-learning"));
        if (parse.GetValue(MetricsPort) is int port)
        {
            hocon.Append($"streamdetect.metrics.prometheus.port = {port}\n");
            Set("streamdetect.metrics.prometheus.enabled", "on");
        }
        if (parse.GetValue(Rate) is double rate) hocon.Append($"streamdetect.run.rate = {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n");
        return hocon.ToString();
    }

    private static async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellation)
    {
        var config = CommonOptions.LoadConfig(parse, Overrides(parse));
        var run = RunSettings.Create(config);
        bool ingestOnly = parse.GetValue(IngestOnly);
        var alertSettings = AlertSettings.Create(config);
        string? input = parse.GetValue(Input);
        string? deadLetterPath = parse.GetValue(DeadLetters);
        string? summaryPath = parse.GetValue(SummaryJson);
        string? alertsPath = parse.GetValue(Alerts);
        double? stopAfterIdle = parse.GetValue(StopAfterIdle);
        string? device = parse.GetValue(Device);

        // "auto" is settled here, from the options given; the names map to the registered inputs and outputs.
        var source = EventInputs.Named(run.Source == "auto" ? (input is null ? "generator" : "file") : run.Source, "streamdetect.source").Kind;
        // online-learning.enabled = auto: on for the generator's traffic, off for a file or Kafka. Every
        // online-learning setting is checked here, before the model is trained or the store touched (README "Online learning").
        config = Online.OnlineLearningSettings.ResolveEnabled(config, source == EventSourceKind.Generator);
        var online = ingestOnly ? null : Online.OnlineLearningSettings.Read(config);
        var deadLetterSink = DeadLetterOutputs.Named(run.DeadLetterSink == "auto" ? (deadLetterPath is null ? "count" : "file") : run.DeadLetterSink, "streamdetect.dead-letters.sink");
        var alertSink = AlertOutputs.Named(alertSettings.Sink == "auto" ? (alertsPath is null ? "stdout" : "file") : alertSettings.Sink, "streamdetect.alerts.sink").Kind;

        // Kafka options on a run that reads no topic would be ignored silently: name them instead.
        if (source != EventSourceKind.Kafka)
        {
            foreach (var option in new[] { Topic, Group })
                if (parse.GetValue(option) is not null)
                    throw new UserInputException($"{option.Name} applies to --source kafka only");
            bool kafkaSink = parse.GetValue(AlertsTopic) is not null || parse.GetValue(DeadLetterTopic) is not null || parse.GetValue(FeedbackTopic) is not null;
            if (parse.GetValue(Bootstrap) is not null && !kafkaSink)
                throw new UserInputException("--bootstrap applies to --source kafka, --alerts-topic, --dead-letter-topic or --feedback-topic only");
        }
        WritableOutputFile.Ensure("--summary-json", summaryPath);
        string? reportDirectory = parse.GetValue(Report);
        if (reportDirectory is not null)
        {
            if (ingestOnly) throw new UserInputException("--report needs scoring; it does not apply to --ingest-only");
            RunReport.EnsureDirectory(reportDirectory);
        }
        string? shadowAlerts = parse.GetValue(ShadowAlerts);
        if (shadowAlerts is not null)
        {
            if (ingestOnly) throw new UserInputException("--shadow-alerts needs scoring; it does not apply to --ingest-only");
            WritableOutputFile.Ensure("--shadow-alerts", shadowAlerts);
        }
        var request = new RunRequest(config, source, input, deadLetterSink, deadLetterPath, parse.GetValue(Model), alertSink, alertsPath,
            stopAfterIdle is double seconds ? TimeSpan.FromSeconds(seconds) : null, parse.GetValue(DumpFeatures), device, ingestOnly)
        {
            ShadowAlertsPath = shadowAlerts,
        };
        Online.OnlineTrainer? trainer = null;
        var job = new RunJob(request, Console.Error)
        {
            CollectEvaluation = reportDirectory is not null,
            MeasureMemory = parse.GetValue(MeasureMemory),
            // streamdetect.online-learning.enabled (run --online-learning): the trainer on its schedule (README "Online learning").
            Online = online is { Active: true }
                ? Online.OnlineRun.Hook(Persistence.StoreSettings.Create(config), online, Console.Error, started: t => trainer = t)
                : null,
        };
        var metricsSettings = MetricsSettings.Create(config);
        using var metrics = metricsSettings.AnyExport ? EngineMetrics.Attach(job) : null;
        using var endpoint = metricsSettings.Enabled ? MetricsEndpoint.Start(metricsSettings, () => job.NotReadyBecause) : null;
        // OTLP without the scrape endpoint: the provider alone (with the endpoint, it exports to both).
        using var otlpOnly = metricsSettings is { Enabled: false, Otlp.Enabled: true } ? EngineMeterProvider.Build(metricsSettings) : null;
        using var draining = endpoint is null ? default : cancellation.Register(endpoint.Drain);
        if (endpoint is not null) Console.Error.WriteLine($"metrics at {endpoint.MetricsUrl}, health at {endpoint.HealthUrl}live and {endpoint.HealthUrl}ready");
        if (metricsSettings.Otlp.Enabled) Console.Error.WriteLine($"metrics exported by OTLP ({metricsSettings.Otlp.Protocol}) to {metricsSettings.Otlp.ExportUri} every {metricsSettings.Otlp.Interval.TotalSeconds:0.#} s");
        RunOutcome outcome;
        var streamingRate = new IntervalRate();
        try
        {
            using (new ProgressReporter(elapsed => ProgressLine(job, elapsed, streamingRate)))
            {
                outcome = await job.RunAsync(cancellation);
            }
        }
        catch (Exception) when (endpoint is not null)
        {
            // A stopped or failed run: ready says 503 (draining), and the last figures stay readable a while.
            await endpoint.LingerAsync(metricsSettings.Linger, CancellationToken.None);
            throw;
        }
        using (outcome.Model?.Detector)
        {
            var summary = outcome.Summary;
            // With alerts on stdout the report goes to stderr, so stdout stays one JSON alert per line.
            var report = alertSink == AlertSinkKind.Stdout && !ingestOnly ? Console.Error : Console.Out;
            RunSummaryPrinter.Print(summary, report);
            if (trainer is not null) report.Write(Online.OnlineEvaluation.FormatVersions(trainer));
            if (summary.EventsValid > 0 && summary.Entities is { EventsPersisted: 0, DuplicatesDropped: > 0 })
                Console.Error.WriteLine("note: every event was a replay of input already persisted in this data directory, so nothing was scored; use a new --data-dir to process it again");
            if (summary.DeadLetters > 0)
            {
                string where = deadLetterSink switch
                {
                    DeadLetterSinkKind.File => $"see {deadLetterPath}",
                    DeadLetterSinkKind.Kafka => "see the dead-letter topic",
                    _ => "use --dead-letters FILE to keep them",
                };
                Console.Error.WriteLine($"warning: {summary.DeadLetters:N0} records rejected ({new DeadLetterSummary(summary.DeadLetters, summary.DeadLetterReasons).Describe()}); {where}");
            }
            if (summaryPath is not null) summary.WriteTo(summaryPath);
            if (reportDirectory is not null && job.Evaluation is { } evaluation && outcome.Model is { } model)
                RunReport.Write(reportDirectory, evaluation, model.Detector, summary, EvaluationReportOptions.Read(config), Console.Error);
        }
        if (endpoint is not null) await endpoint.LingerAsync(metricsSettings.Linger, cancellation);
        return 0;
    }

    /// <summary>An on|off option's value as HOCON (null when not given); anything else is refused naming the option.</summary>
    internal static string? OnOff(string? value, string option) => value?.ToLowerInvariant() switch
    {
        null => null,
        "on" or "true" or "yes" => "on",
        "off" or "false" or "no" => "off",
        _ => throw new UserInputException($"{option} must be on or off (got '{value}')"),
    };

    internal static string HoconString(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string ProgressLine(RunJob job, TimeSpan elapsed, IntervalRate rate)
    {
        if (job.Ingest is not { } ingest)
        {
            rate.Mark(0, elapsed);
            return $"[{elapsed:mm\\:ss}] preparing ({job.Phase})";
        }
        var progress = job.Progress;
        string fraction = progress.Fraction is double f ? $"{f:P0} read, " : "";
        string scoring = job.Scoring is { } s
            ? $", {s.Scored:N0} scored, {s.Alerts:N0} alerts, latency p50 {s.ScoredLatency.Percentile(0.5):N0} ms p99 {s.ScoredLatency.Percentile(0.99):N0} ms"
            : "";
        return $"[{elapsed:mm\\:ss}] {fraction}{ingest.Statistics.Events:N0} events in, {ingest.Routing.Accepted:N0} persisted ({rate.Describe(ingest.Routing.Accepted, elapsed)}){scoring}";
    }
}
