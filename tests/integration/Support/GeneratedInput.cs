using StreamDetect.Stages.Generator;

namespace StreamDetect.Integration.Tests.Support;

/// <summary>Writes the generator's labelled traffic (and its truth file) to a JSONL file.</summary>
public static class GeneratedInput
{
    public static string Write(string path, int users, int days = 1, int seed = 5)
    {
        var generator = new TrafficGenerator(GeneratorSettings.Default with { Users = users, Days = days, Seed = seed });
        using (var stream = File.Create(path))
            GeneratedTrafficWriter.WriteEvents(generator, stream);
        using (var truth = File.Create(GeneratedTrafficWriter.TruthPathFor(path)))
            GeneratedTrafficWriter.WriteTruth(generator.Truth, truth);
        return path;
    }
}
