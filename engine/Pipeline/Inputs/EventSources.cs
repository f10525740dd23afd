using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>The run's event sources, each as valid events plus the dead letters' outcome.</summary>
public static class EventSources
{
    /// <summary>A JSONL/CSV file: read, parse and validate; rejected records go to <paramref name="deadLetters"/>.</summary>
    public static Source<IngestedEvent, Task<DeadLetterSummary>> FromFile(
        RecordFileReader reader, EventParser parser, Sink<DeadLetter, Task<DeadLetterSummary>> deadLetters, ReadProgress progress) =>
        RecordFileSource.Create(reader, progress)
            .Via(ParseFlow.Create(parser))
            .AlsoToMaterialized(Flow.Create<ParsedRecord>().Where(r => r is DeadLetter).Select(r =>
            {
                var letter = (DeadLetter)r;
                progress.AddDeadLetter(letter.Rejection.Code);
                return letter;
            }).ToMaterialized(deadLetters, Keep.Right), Keep.Right)
            .Where(r => r is IngestedEvent)
            .Select(r => (IngestedEvent)r);

    /// <summary>
    /// The built-in generator's labelled traffic. Generation runs on the blocking-IO dispatcher and
    /// crosses into the stream in chunks; positions are generator sequence numbers, in an epoch that
    /// fingerprints the generator settings (the same settings re-run are replays, other settings are
    /// new input).
    /// </summary>
    public static Source<IngestedEvent, Task<DeadLetterSummary>> FromGenerator(TrafficGenerator generator, ReadProgress progress)
    {
        long epoch = Fingerprint(generator.Settings.ToString());
        return Source.FromEnumerator(() => Positioned(generator, epoch, progress).Chunk(RecordFileSource.ChunkSize).GetEnumerator())
            .WithAttributes(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"))
            .Async()
            .SelectMany(chunk => chunk)
            .MapMaterializedValue(_ => Task.FromResult(DeadLetterSummary.Empty))
            .Named("generator-source");
    }

    private static IEnumerable<IngestedEvent> Positioned(TrafficGenerator generator, long epoch, ReadProgress progress)
    {
        long sequence = 0;
        foreach (var e in generator.Events())
        {
            progress.AddRecord();
            yield return new IngestedEvent(e, new SourcePosition("generator", 0, ++sequence, epoch));
        }
    }

    private static long Fingerprint(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return (long)(hash | 1);
    }
}
