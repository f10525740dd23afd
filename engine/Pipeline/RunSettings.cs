using Akka.Configuration;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// What `run` wires together (HOCON <c>streamdetect.source</c>, <c>streamdetect.dead-letters.sink</c>)
/// and how it gets a model when none is given (<c>streamdetect.run</c>).
/// </summary>
/// <param name="Source">auto, or an input's name (<see cref="EventInputs.Names"/>).</param>
/// <param name="DeadLetterSink">auto, or a dead-letter sink's name (<see cref="DeadLetterOutputs.Names"/>).</param>
/// <param name="FreshState">
/// Whether the run first removes the per-user state an earlier run left in the SQLite data directory.
/// auto: only for the built-in generator, whose traffic is the same on every run, so that re-running the
/// demo processes it again instead of dropping every event as a replay; a file or Kafka run always
/// resumes from its persisted state.
/// </param>
/// <param name="Rate">Events per second the source is held to (<c>streamdetect.run.rate</c>, <c>run --rate</c>); 0: unthrottled.</param>
public sealed record RunSettings(string Source, string DeadLetterSink, string Model, double TrainDays, bool SaveModel, FreshStateMode FreshState, double Rate = 0)
{
    /// <summary><c>streamdetect.run.model</c>: a detector kind the registry knows.</summary>
    private static string ModelName(SettingsReader run)
    {
        string name = run.String("model");
        if (!Models.Detection.DetectorRegistry.Default.TryGet(name, out _))
            throw new SettingsException(run.Key("model"), $"unknown model '{name}' (known: {string.Join(", ", Models.Detection.DetectorRegistry.Default.Names)})");
        return name;
    }

    public static RunSettings Create(Config config)
    {
        var root = new SettingsReader(config, "streamdetect");
        var deadLetters = new SettingsReader(config, "streamdetect.dead-letters");
        var run = new SettingsReader(config, "streamdetect.run");
        return new RunSettings(
            root.OneOf("source", ["auto", .. EventInputs.Names]),
            deadLetters.OneOf("sink", ["auto", .. DeadLetterOutputs.Names]),
            ModelName(run),
            run.Double("train-days", 0.01, 3650),
            run.Bool("save-model"),
            run.OneOf("fresh-state", "auto", "on", "off") switch
            {
                "on" => FreshStateMode.On,
                "off" => FreshStateMode.Off,
                _ => FreshStateMode.Auto,
            },
            run.Double("rate", 0, 100_000_000));
    }
}
