using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Parsing;

/// <summary>The parse/validate stage: each raw record becomes an <see cref="IngestedEvent"/> or a <see cref="DeadLetter"/>.</summary>
public static class ParseFlow
{
    public static Flow<RawRecord, ParsedRecord, NotUsed> Create(EventParser parser) =>
        Flow.Create<RawRecord>().Select(parser.Parse).Named("parse-validate");

    /// <summary>
    /// Parses, sends dead letters to <paramref name="deadLetters"/> and passes valid events on. A dead
    /// letter never fails or stops the stream; the sink's backpressure applies to the whole flow.
    /// </summary>
    public static Flow<RawRecord, IngestedEvent, NotUsed> WithDeadLetters<TMat>(EventParser parser, Sink<DeadLetter, TMat> deadLetters) =>
        Create(parser)
            .DivertTo(Flow.Create<ParsedRecord>().Select(r => (DeadLetter)r).To(deadLetters), r => r is DeadLetter)
            .Select(r => (IngestedEvent)r);
}
