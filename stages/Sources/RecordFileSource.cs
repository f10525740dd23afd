using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace StreamDetect.Stages.Sources;

/// <summary>
/// An event file (JSON Lines or CSV) as an Akka.Streams source of <see cref="RawRecord"/>s. Reading
/// runs on the blocking-IO dispatcher and is pulled by demand, so a slow pipeline slows the reader
/// and memory stays bounded by the read buffer.
/// </summary>
public static class RecordFileSource
{
    public static Source<RawRecord, NotUsed> Create(RecordFileReader reader, ReadProgress? progress = null) =>
        Source.FromEnumerator(() => reader.Read(progress).GetEnumerator())
            .WithAttributes(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"))
            .Named("record-file-source");
}
