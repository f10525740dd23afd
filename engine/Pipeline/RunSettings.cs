using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Which source and sinks `run` wires together (HOCON <c>streamdetect.source</c>, <c>streamdetect.dead-letters.sink</c>).</summary>
public sealed record RunSettings(string Source, string DeadLetterSink)
{
    public static RunSettings Create(Config config)
    {
        var root = new SettingsReader(config, "streamdetect");
        var deadLetters = new SettingsReader(config, "streamdetect.dead-letters");
        return new RunSettings(
            root.OneOf("source", "auto", "file", "generator", "kafka"),
            deadLetters.OneOf("sink", "auto", "file", "kafka", "count"));
    }
}
