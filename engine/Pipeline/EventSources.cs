using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Pipeline;

/// <summary>The run's event sources, each as valid events plus the dead letters' outcome.</summary>
public static class EventSources
{
    /// <summary>A JSONL/CSV file: read, parse and validate; rejected records go to <paramref name="deadLetters"/>.</summary>
    public static Source<IngestedEvent, Task<DeadLetterSummary>> FromFile(
        RecordFileReader reader, EventParser parser, Sink<DeadLetter, Task<DeadLetterSummary>> deadLetters, ReadProgress progress) =>
        RecordFileSource.Create(reader, progress)
            .Via(ParseFlow.Create(parser))
            .AlsoToMaterialized(Flow.Create<ParsedRecord>().Where(r => r is DeadLetter).Select(r => (DeadLetter)r).ToMaterialized(deadLetters, Keep.Right), Keep.Right)
            .Where(r => r is IngestedEvent)
            .Select(r => (IngestedEvent)r);
}
