using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// What `run` wires together (HOCON <c>streamdetect.source</c>, <c>streamdetect.dead-letters.sink</c>)
/// and how it gets a model when none is given (<c>streamdetect.run</c>).
/// </summary>
public sealed record RunSettings(string Source, string DeadLetterSink, string Model, double TrainDays, bool SaveModel)
{
    public static RunSettings Create(Config config)
    {
        var root = new SettingsReader(config, "streamdetect");
        var deadLetters = new SettingsReader(config, "streamdetect.dead-letters");
        var run = new SettingsReader(config, "streamdetect.run");
        return new RunSettings(
            root.OneOf("source", "auto", "file", "generator", "kafka"),
            deadLetters.OneOf("sink", "auto", "file", "kafka", "count"),
            run.String("model"),
            run.Double("train-days", 0.01, 3650),
            run.Bool("save-model"));
    }
}
