using Akka.Configuration;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Scoring;
using StreamDetect.Stages.Thresholds;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// A run before anything starts: the request, every setting it needs (validated), the input and the alert
/// output it wires, and the checks of their combination. Every user error a run can detect without
/// starting the engine is raised here.
/// </summary>
public sealed class RunPlan
{
    private RunPlan(RunRequest request, Config config)
    {
        Request = request;
        Config = config;
        Run = RunSettings.Create(config);
        Validation = ValidationSettings.Create(config);
        DeadLetters = DeadLetterSettings.Create(config);
        Alerts = AlertSettings.Create(config);
        Thresholds = ThresholdSettings.Create(config);
        Scorer = ScorerSettings.Create(config);
        Engine = EngineSettings.Create(config);
        Device = request.Device ?? new Stages.Configuration.SettingsReader(config, "streamdetect.models").OneOf("device", "auto", "cpu", "cuda");
        Input = EventInputs.For(request.Source);
        AlertOutput = AlertOutputs.For(request.AlertSink);
        FreshState = Run.FreshState == FreshStateMode.On
            || (Run.FreshState == FreshStateMode.Auto && Input.SameOnEveryRun && Engine.Store.Kind == "sqlite");
    }

    public RunRequest Request { get; }

    /// <summary>The run's configuration (an ingest-only run turns rescoring off).</summary>
    public Config Config { get; }

    public RunSettings Run { get; }

    public ValidationSettings Validation { get; }

    public DeadLetterSettings DeadLetters { get; }

    public AlertSettings Alerts { get; }

    public ThresholdSettings Thresholds { get; }

    public ScorerSettings Scorer { get; }

    public EngineSettings Engine { get; }

    /// <summary>cpu, cuda or auto.</summary>
    public string Device { get; }

    public IEventInput Input { get; }

    public IAlertOutput AlertOutput { get; }

    /// <summary>Whether the run removes the earlier state first (<see cref="FreshStateMode"/>).</summary>
    public bool FreshState { get; }

    /// <summary>Settings the configuration changes (from the shipped defaults) that have no effect on this run, each a
    /// line for stderr; the run goes on. E.g. <c>streamdetect.generator.*</c> on a file or Kafka run: an overlay written
    /// for `gen` is legitimately reused to `run --input` the file it generated, so this warns rather than refuses.</summary>
    public IReadOnlyList<string> Warnings { get; private set; } = [];

    /// <summary>With --model: the changed <c>streamdetect.models.&lt;kind&gt;.*</c> keys (hyper-parameters such as
    /// <c>decision</c>), which are checked but fixed in a model when it is trained, so the loaded model ignores them.</summary>
    public IReadOnlyList<string> FixedAtTraining { get; private set; } = [];

    /// <summary>Settles the settings and checks the request; throws <see cref="UserInputException"/> or a settings error naming the problem.</summary>
    public static RunPlan Create(RunRequest request)
    {
        if (request.IngestOnly && request.DumpFeatures is not null)
            throw new UserInputException("--dump-features writes the features of scored events: it cannot be combined with --ingest-only");
        if (request.IngestOnly && request.ModelPath is not null) throw new UserInputException("--ingest-only runs no model; drop --model");
        if (request.StopAfterIdle is { } idle && (request.Source != EventSourceKind.Kafka || idle <= TimeSpan.Zero))
            throw new UserInputException("--stop-after-idle takes a positive number of seconds and applies to --source kafka only");
        if (request.DeadLetterSink == DeadLetterSinkKind.File && request.DeadLetterPath is null)
            throw new UserInputException("streamdetect.dead-letters.sink = file needs --dead-letters FILE");
        // Nothing scores in an ingest-only run: its events are not waiting for a scorer's confirmation.
        var config = request.IngestOnly
            ? ConfigurationFactory.ParseString("streamdetect.entities.rescore-after-crash = off").WithFallback(request.Config)
            : request.Config;
        var plan = new RunPlan(request, config);
        plan.Input.Validate(plan);
        if (!request.IngestOnly) plan.AlertOutput.Validate(plan);
        if (plan.Thresholds.FeedbackFile is { Length: > 0 } feedback && !File.Exists(feedback))
            throw new UserInputException($"feedback file '{feedback}' does not exist (create it empty to append labels during the run)");
        // The model: a given file is whole and known; a model to train has valid settings (ensemble members included);
        // the device it runs on is there.
        // A loaded model keeps the hyper-parameters it was trained with, but a bad value in the configuration is still
        // refused naming its key (`run --model` with a misspelt `decision` must not pass silently).
        if (request.ModelPath is { } modelPath) ModelProvider.Check(modelPath);
        if (!request.IngestOnly) TrainingOptionsReader.Read(config);
        if (request.ModelPath is not null && !request.IngestOnly)
            plan.FixedAtTraining = [.. DetectorRegistry.Default.Names.SelectMany(kind => ChangedSettings.Under(config, $"streamdetect.models.{kind}"))];
        if (plan.Input.Kind != EventSourceKind.Generator && ChangedSettings.Under(config, GeneratorSettings.ConfigPath) is { Count: > 0 } generator)
            plan.Warnings = [$"{string.Join(", ", generator)} {(generator.Count == 1 ? "has" : "have")} no effect: the source is {plan.Input.Name}, " +
                $"and {GeneratorSettings.ConfigPath} only shapes the built-in generator's traffic (`run --source generator`, `gen`)"];
        if (!request.IngestOnly) CheckDevice(plan.Device, request.Device is null ? "streamdetect.models.device" : "--device");
        WritableOutputFile.Ensure("--alerts", request.AlertSink == AlertSinkKind.File ? request.AlertsPath : null);
        WritableOutputFile.Ensure("--dead-letters", request.DeadLetterSink == DeadLetterSinkKind.File ? request.DeadLetterPath : null);
        WritableOutputFile.Ensure("--dump-features", request.DumpFeatures);
        if (plan.Engine.Store.Kind != "memory")
        {
            var store = plan.Engine.Store;
            WritableDataDirectory.Ensure(store.DataDirectory,
                [store.SqliteFile, store.SqliteFile + "-wal", store.SqliteFile + "-shm", Persistence.DataDirectoryMarker.FileName]);
        }
        return plan;
    }

    private static void CheckDevice(string device, string setting)
    {
        try
        {
            Models.Detection.ComputeDevice.Resolve(device);
        }
        catch (ArgumentException e)
        {
            throw new UserInputException($"{setting}: {e.Message}", e);
        }
    }
}
