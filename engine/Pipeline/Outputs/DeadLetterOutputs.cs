using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>The dead-letter sinks by name (<c>streamdetect.dead-letters.sink</c>), and the sink a record-reading input writes to.</summary>
public static class DeadLetterOutputs
{
    private static readonly (DeadLetterSinkKind Kind, string Name)[] All = [(DeadLetterSinkKind.Count, "count"), (DeadLetterSinkKind.File, "file"), (DeadLetterSinkKind.Kafka, "kafka")];

    public static IReadOnlyList<string> Names { get; } = All.Select(k => k.Name).ToArray();

    public static string NameOf(DeadLetterSinkKind kind) => All.First(k => k.Kind == kind).Name;

    public static DeadLetterSinkKind Named(string name, string setting) =>
        All.FirstOrDefault(k => k.Name == name) is { Name: not null } found
            ? found.Kind
            : throw new UserInputException($"{setting}: unknown dead-letter sink '{name}' (known: auto, {string.Join(", ", Names)})");

    /// <summary>Where a file or generator input's dead letters go: the dead-letter file, or nowhere (counted).</summary>
    public static Sink<DeadLetter, Task<DeadLetterSummary>> ForRecords(RunPlan plan) =>
        plan.Request.DeadLetterSink == DeadLetterSinkKind.File
            ? DeadLetterFileSink.Create(plan.Request.DeadLetterPath ?? throw new UserInputException("streamdetect.dead-letters.sink = file needs --dead-letters FILE"), plan.DeadLetters)
            : DeadLetterFileSink.CountOnly();
}
