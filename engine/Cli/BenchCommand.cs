using StreamDetect.Engine.Configuration;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Engine.Telemetry;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Thresholds;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// `streamdetect bench`: the engine's own benchmark on generated traffic, in one process:
/// ingest (validate -> entities -> features, SQLite on) events/s and resident bytes per user;
/// end to end (ingest -> batcher -> scorer -> alerts) events/s; the scorer alone on the same model and
/// batch size; ingest-to-scored latency at half of the measured maximum load (the run's path, its source held to
/// that rate). With <c>--online-learning on</c> the end-to-end and half-load phases run the online trainer as
/// `run --online-learning on` does, and the report gives its rounds (time, samples) and versions.
/// </summary>
public static class BenchCommand
{
    private static readonly Option<int> Users = new("--users") { Description = "Generated users", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<int> Days = new("--days") { Description = "Generated days (the first --train-days train the model)", DefaultValueFactory = _ => 4 };
    private static readonly Option<double> TrainDays = new("--train-days") { Description = "Days used to train the model when --model is not given", DefaultValueFactory = _ => 1 };
    private static readonly Option<string?> Model = new("--model", "-m") { Description = "A trained model file; default: train streamdetect.run.model on the first --train-days" };
    private static readonly Option<string?> Device = new("--device") { Description = "cpu, cuda or auto (default streamdetect.models.device)" };
    private static readonly Option<int?> Batch = new("--batch") { Description = "Scorer micro-batch size (streamdetect.scoring.batcher.max-batch)" };
    private static readonly Option<string?> Json = new("--json") { Description = "Write the results as JSON to this file" };
    private static readonly Option<bool> IngestOnly = new("--ingest-only") { Description = "Measure only the ingest path (validate -> entities -> features with persistence); no model" };
    private static readonly Option<string> Store = new("--store") { Description = "sqlite (default, as the product runs) or memory", DefaultValueFactory = _ => "sqlite" };
    private static readonly Option<bool> Json2Stdout = new("--quiet") { Description = "Print only the JSON result" };
    private static readonly Option<double?> ModelGridHours = new("--model-grid-hours")
    {
        Description = "End to end through a model schedule (online learning's seam) whose plan never changes, on a grid of this many hours of event time (0: a fixed schedule); to measure what the seam costs",
    };
    private static readonly Option<int?> MetricsPort = new("--metrics-port")
    {
        HelpName = "N",
        Description = "Serve metrics and health on this port during the end-to-end phase, as `run --metrics-port` does (to measure their cost; streamdetect.metrics also applies)",
    };
    private static readonly Option<string?> OnlineLearning = new("--online-learning")
    {
        HelpName = "on|off",
        Description = "The end-to-end and half-load phases with the online trainer as `run --online-learning on` runs it (the bench's model as champion, " +
                      "the registry in the bench's store; cadence and rules: streamdetect.online-learning); reports its rounds (time, samples) and versions. Default: off",
    };

    public static Command Create()
    {
        var command = new Command("bench", "Benchmark the engine on generated traffic: ingest events/s and bytes per user, end-to-end events/s, the scorer alone, and latency at half load; writes JSON with --json");
        foreach (var option in new Option[] { Users, Days, TrainDays, Model, Device, Batch, Json, IngestOnly, Store, Json2Stdout, MetricsPort, ModelGridHours, OnlineLearning }) command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token => ExecuteAsync(parse, token), cancellation));
        return command;
    }

    private static async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellation)
    {
        int users = parse.GetValue(Users), days = parse.GetValue(Days);
        double trainDays = parse.GetValue(TrainDays);
        string store = parse.GetValue(Store) ?? "sqlite";
        if (users < 1 || days < 1) throw new UserInputException("--users and --days must be positive");
        if (store is not ("sqlite" or "memory")) throw new UserInputException("--store is sqlite or memory");
        if (!parse.GetValue(IngestOnly) && parse.GetValue(Model) is null && trainDays >= days)
            throw new UserInputException("--train-days must be smaller than --days");
        WritableOutputFile.Ensure("--json", parse.GetValue(Json));
        var grid = parse.GetValue(ModelGridHours) is double hours ? TimeSpan.FromHours(hours) : (TimeSpan?)null;
        if (grid < TimeSpan.Zero) throw new UserInputException("--model-grid-hours must be 0 or more");
        bool learn = RunCommand.OnOff(parse.GetValue(OnlineLearning), "--online-learning") == "on";
        if (learn && grid is not null) throw new UserInputException("--model-grid-hours and --online-learning on exclude each other (both give the run its model schedule)");
        if (learn && parse.GetValue(IngestOnly)) throw new UserInputException("--online-learning needs scoring; it does not apply to --ingest-only");
        var log = Console.Error;
        string scratch = Directory.CreateTempSubdirectory("streamdetect-bench-").FullName;
        var result = new JsonObject
        {
            ["users"] = users,
            ["days"] = days,
            ["store"] = store,
            ["cores"] = Environment.ProcessorCount,
        };
        try
        {
            string batchSetting = parse.GetValue(Batch) is int batch ? $"streamdetect.scoring.batcher.max-batch = {batch}" : "";
            string metricsSetting = parse.GetValue(MetricsPort) is int port
                ? $"streamdetect.metrics.prometheus {{ enabled = on, port = {port} }}"
                : "";
            string Overrides(string dir, string extra = "") => string.Join('\n',
                $"streamdetect.store.kind = {store}",
                $"streamdetect.store.data-dir = {RunCommand.HoconString(dir)}",
                $"streamdetect.generator.users = {users}",
                $"streamdetect.generator.days = {days}",
                $"streamdetect.run.train-days = {trainDays.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                "streamdetect.run.save-model = off",
                batchSetting,
                metricsSetting,
                $"streamdetect.online-learning.enabled = {(learn ? "on" : "off")}",
                extra);
            var baseConfig = CommonOptions.LoadConfig(parse);
            Akka.Configuration.Config With(string dir) => Akka.Configuration.ConfigurationFactory.ParseString(Overrides(dir)).WithFallback(baseConfig);
            var generator = GeneratorSettings.Create(With(scratch));
            // Everything the end-to-end phase needs (its settings, the model file or the settings of the model
            // it trains) is checked before the ingest phase, so a mistake costs no benchmark time.
            var config = With(Path.Combine(scratch, "e2e"));
            var request = new RunRequest(config, EventSourceKind.Generator, null, DeadLetterSinkKind.Count, null, parse.GetValue(Model), AlertSinkKind.None, null, null, null, parse.GetValue(Device));
            var plan = parse.GetValue(IngestOnly) ? null : RunPlan.Create(request);
            // Every online-learning setting is checked here too, before any benchmark phase (as `run` does).
            var online = learn ? Online.OnlineLearningSettings.Read(config) : null;
            var metricsSettings = MetricsSettings.Create(config);
            result["online_learning"] = learn;

            log.WriteLine($"bench: ingest of {users:N0} users x {days} days, store {store}");
            var ingest = await IngestAsync(With(Path.Combine(scratch, "ingest")), generator, cancellation);
            result["ingest"] = ingest;
            log.WriteLine($"bench: ingest {ingest["events_per_s"]} events/s, {ingest["bytes_per_user"]} bytes per user");
            if (parse.GetValue(IngestOnly)) return Finish(parse, result);

            // End to end at full speed, with the scoring requests kept to replay through the scorer alone.
            // With online learning the trainer needs the data the champion was trained on (anchors, canaries): a bench that
            // trains its model hands it over itself; for --model, the same first --train-days of the generated traffic.
            Models.Dataset.BehaviorDataset? trainedOn = learn && parse.GetValue(Model) is not null ? TrainedOn(plan!) : null;
            Online.OnlineTrainer? trainer = null;
            var job = new RunJob(request, log)
            {
                Online = grid is TimeSpan boundary ? start => FixedPlanResolver.Start(start, boundary)
                    : online is not null ? Online.OnlineRun.Hook(Persistence.StoreSettings.Create(config), online, log, trainedOn, started: t => trainer = t)
                    : null,
            };
            if (grid is TimeSpan g) result["model_grid_hours"] = g.TotalHours;
            result["metrics"] = metricsSettings.AnyExport;
            log.WriteLine($"bench: end to end at full speed{(metricsSettings.AnyExport ? " (metrics on)" : "")}");
            RunOutcome outcome;
            var endToEndCost = PhaseCost.Start();
            using (var metrics = metricsSettings.AnyExport ? EngineMetrics.Attach(job) : null)
            using (var endpoint = metricsSettings.Enabled ? MetricsEndpoint.Start(metricsSettings, () => job.NotReadyBecause) : null)
            using (var otlpOnly = metricsSettings is { Enabled: false, Otlp.Enabled: true } ? EngineMeterProvider.Build(metricsSettings) : null)
            {
                if (endpoint is not null) log.WriteLine($"bench: metrics at {endpoint.MetricsUrl}");
                outcome = await job.RunAsync(cancellation);
            }
            using var detector = outcome.Model!.Detector;
            var s = outcome.Summary;
            var scoring = s.Scoring!;
            result["model"] = scoring.Model;
            result["device"] = scoring.Device;
            result["batch"] = MicroBatcherSettings.Create(config).MaxBatch;
            result["training_s"] = scoring.TrainingS;
            result["events"] = s.EventsValid;
            result["end_to_end_events_per_s"] = s.EventsPerS;
            result["requests_scored"] = scoring.RequestsScored;
            result["mean_batch"] = scoring.MeanBatch;
            result["latency_at_full_load_p50_ms"] = scoring.LatencyP50Ms;
            result["latency_at_full_load_p99_ms"] = scoring.LatencyP99Ms;
            // A bench that trains its model (no --model) trains inside the run: its CPU is in this phase's, so the
            // figures are named for it rather than passed off as the stream's cost.
            endToEndCost.WriteTo(result, s.EventsValid, scoring.TrainingS > 0 ? "end_to_end_with_training_" : "end_to_end_");
            log.WriteLine($"bench: end to end {s.EventsPerS:N0} events/s");
            if (learn) result["online"] = OnlineFigures(trainer, log, "end to end");

            // The scorer alone, same model and batch size: the requests of a replay of the same traffic.
            var (scorerRate, scorerRequests, scorerCost) = await ScorerAloneAsync(config, generator, detector, cancellation);
            scorerCost.WriteTo(result, scorerRequests, "scorer_alone_");
            result["scorer_alone_events_per_s"] = Math.Round(scorerRate);
            result["scorer_alone_requests"] = scorerRequests;
            result["end_to_end_over_scorer_alone"] = Math.Round(s.EventsPerS / Math.Max(1, scorerRate), 3);
            log.WriteLine($"bench: scorer alone {scorerRate:N0} events/s");

            // Latency at half of the measured maximum load.
            double halfLoad = Math.Max(1000, s.EventsPerS / 2);
            log.WriteLine($"bench: latency at half load ({halfLoad:N0} events/s)");
            // The run's path with its source held to that rate (`run --rate`), the same model loaded from its file; with
            // online learning the trainer runs beside it as in the end-to-end phase (its registry in this phase's store).
            string modelPath = parse.GetValue(Model) ?? Path.Combine(scratch, "bench-model.sdm");
            if (parse.GetValue(Model) is null) detector.Save(modelPath);
            var halfConfig = Akka.Configuration.ConfigurationFactory.ParseString(Overrides(Path.Combine(scratch, "half"),
                $"streamdetect.run.rate = {halfLoad.ToString(System.Globalization.CultureInfo.InvariantCulture)}")).WithFallback(baseConfig);
            Online.OnlineTrainer? halfTrainer = null;
            var halfJob = new RunJob(request with { Config = halfConfig, ModelPath = modelPath }, log)
            {
                Online = online is null ? null
                    : Online.OnlineRun.Hook(Persistence.StoreSettings.Create(halfConfig), online, log, trainedOn ?? outcome.Model.TrainingData, started: t => halfTrainer = t),
            };
            var halfOutcome = await halfJob.RunAsync(cancellation);
            halfOutcome.Model?.Detector.Dispose();
            var latency = (P50: halfOutcome.Summary.Scoring!.LatencyP50Ms, P99: halfOutcome.Summary.Scoring!.LatencyP99Ms);
            if (learn) result["half_load_online"] = OnlineFigures(halfTrainer, log, "half load");
            result["half_load_events_per_s"] = Math.Round(halfLoad);
            result["latency_p50_ms"] = latency.P50;
            result["latency_p99_ms"] = latency.P99;
            log.WriteLine($"bench: latency p50 {latency.P50} ms, p99 {latency.P99} ms");
            return Finish(parse, result);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // a store file may still be open in a pooled connection
            }
        }
    }

    /// <summary>The data a loaded model is taken to have been trained on: the first --train-days of the bench's traffic, built as a run builds it.</summary>
    private static Models.Dataset.BehaviorDataset TrainedOn(RunPlan plan)
    {
        var (events, cut) = plan.Input.TrainingEvents(plan);
        int window = UserPartitionSettings.Create(plan.Config).WindowSize;
        var all = Models.Dataset.DatasetBuilder.Build(events, window, SessionSettingsReader.Read(plan.Config));
        return cut is long until ? all.Before(until) : all;
    }

    /// <summary>What the online trainer did in a phase: rounds (time, samples), candidates made, promoted, rejected; printed and as JSON.</summary>
    private static JsonObject OnlineFigures(Online.OnlineTrainer? trainer, TextWriter log, string phase)
    {
        if (trainer is null)
        {
            log.WriteLine($"bench: {phase}: online learning did not run (see the line above)");
            return new JsonObject { ["trainer_ran"] = false, ["rounds"] = 0 };
        }
        var rounds = trainer.Rounds;
        var transitions = trainer.Transitions;
        int made = rounds.Count(r => r.Candidate is not null);
        int promoted = transitions.Count(t => t is { Status: "champion", Parent: not null });
        int rejected = transitions.Count(t => t.Status == "rejected");
        int rolledBack = transitions.Count(t => t.Status == "rejected" && t.Reason.StartsWith("rolled back", StringComparison.Ordinal));
        var c = System.Globalization.CultureInfo.InvariantCulture;
        log.WriteLine(string.Create(c, $"bench: {phase}: online learning {rounds.Count} rounds, {made} candidates made, {promoted} promoted, {rejected} rejected ({rolledBack} rolled back), {trainer.BoundariesResolved} boundaries"));
        foreach (var r in rounds)
            log.WriteLine(string.Create(c, $"bench: {phase}: round {r.Round}: {r.Samples} samples of {r.Users} users, {r.Steps} steps, {r.TrainingSeconds:F1} s fine-tuning, {r.GateSeconds:F1} s gates{(r.Failure is null ? "" : $" (no candidate: {r.Failure})")}"));
        var perRound = new JsonArray();
        foreach (var r in rounds)
            perRound.Add(new JsonObject
            {
                ["round"] = r.Round,
                ["samples"] = r.Samples,
                ["users"] = r.Users,
                ["steps"] = r.Steps,
                ["training_s"] = Math.Round(r.TrainingSeconds, 2),
                ["gate_s"] = Math.Round(r.GateSeconds, 2),
                ["time_s"] = Math.Round(r.TrainingSeconds + r.GateSeconds, 2),
                ["candidate"] = r.Candidate,
                ["gates_passed"] = r.GatesPassed,
                ["failure"] = r.Failure,
            });
        return new JsonObject
        {
            ["trainer_ran"] = true,
            ["rounds"] = rounds.Count,
            ["boundaries"] = trainer.BoundariesResolved,
            ["candidates_made"] = made,
            ["promoted"] = promoted,
            ["rejected"] = rejected,
            ["rolled_back"] = rolledBack,
            ["mean_round_s"] = rounds.Count == 0 ? 0 : Math.Round(rounds.Average(r => r.TrainingSeconds + r.GateSeconds), 2),
            ["mean_round_samples"] = rounds.Count == 0 ? 0 : Math.Round(rounds.Average(r => r.Samples), 1),
            ["failure"] = trainer.Failure?.Message,
            ["per_round"] = perRound,
        };
    }

    private static int Finish(ParseResult parse, JsonObject result)
    {
        string json = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (parse.GetValue(Json) is string path) File.WriteAllText(path, json + "\n");
        Console.Out.WriteLine(json);
        return 0;
    }

    /// <summary>Ingest only: events/s through validate -> entities -> features with persistence, and memory per user.</summary>
    private static async Task<JsonObject> IngestAsync(Akka.Configuration.Config config, GeneratorSettings generator, CancellationToken cancellation)
    {
        // Generate first, so the measurement is the engine's, not the generator's.
        var events = new TrafficGenerator(generator).Events().ToList();
        long epoch = Environment.TickCount64;
        long seq = 0;
        var ingested = events.Select(e => new IngestedEvent(e, new SourcePosition("bench", 0, ++seq, epoch))).ToList();
        await using var host = await EngineHost.StartAsync(WithoutScorer(config), cluster: true, cancellation);
        long before = HeapAfterCollect();
        var job = new IngestJob(host);
        var source = Source.From(ingested).MapMaterializedValue(_ => Task.FromResult(DeadLetterSummary.Empty));
        var cost = PhaseCost.Start();
        var result = await job.RunAsync(source, IngestJob.CountingSink(), () => ingested.Count, cancellation);
        var ingestCost = cost.Stop();
        ingested = null!;
        events = null!;
        long after = HeapAfterCollect();
        int usersInState = result.Partitions.Sum(p => p.Users);
        var json = new JsonObject
        {
            ["events"] = result.Statistics.Events,
            ["elapsed_s"] = Math.Round(result.Elapsed.TotalSeconds, 2),
            ["events_per_s"] = Math.Round(result.Statistics.Events / result.Elapsed.TotalSeconds),
            ["journal_rows"] = result.Routing.Rows,
            ["events_per_row"] = Math.Round((double)result.Routing.Accepted / Math.Max(1, result.Routing.Rows), 1),
            ["users_in_state"] = usersInState,
            ["bytes_per_user"] = usersInState == 0 ? 0 : (after - before) / usersInState,
        };
        ingestCost.WriteTo(json, result.Statistics.Events);
        return json;
    }

    /// <summary>For engines whose events no scorer confirms: the partitions do not wait for confirmations.</summary>
    private static Akka.Configuration.Config WithoutScorer(Akka.Configuration.Config config) =>
        Akka.Configuration.ConfigurationFactory.ParseString("streamdetect.entities.rescore-after-crash = off").WithFallback(config);

    private static long HeapAfterCollect()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// The model alone on the same traffic and batch size: every event scored once as its user's newest, the
    /// user's state passed along (what the scorer does inside the engine), without the engine around it.
    /// </summary>
    private static Task<(double EventsPerSecond, long Requests, PhaseCost Cost)> ScorerAloneAsync(Akka.Configuration.Config config, GeneratorSettings generator,
        Models.Detection.IAnomalyDetector detector, CancellationToken cancellation)
    {
        var batchSize = MicroBatcherSettings.Create(config).MaxBatch;
        int window = UserPartitionSettings.Create(config).WindowSize;
        var dataset = Models.Dataset.DatasetBuilder.Build(new TrafficGenerator(generator).Events(), window);
        long events = 0;
        var cost = PhaseCost.Start();
        var clock = Stopwatch.StartNew();
        events = Models.Replay.StreamingReplay.Run(dataset, detector, new Models.Replay.ReplayOptions(batchSize), _ => { }, cancellation);
        return Task.FromResult((events / clock.Elapsed.TotalSeconds, events, cost.Stop()));
    }
}
