using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace StreamDetect.Stages.Sources;

/// <summary>
/// An event file (JSON Lines or CSV) as an Akka.Streams source of <see cref="RawRecord"/>s. Reading
/// runs on the blocking-IO dispatcher and is pulled by demand, so a slow pipeline slows the reader
/// and memory stays bounded by the read buffer plus a few chunks.
/// </summary>
public static class RecordFileSource
{
    /// <summary>
    /// Records cross from the reader's dispatcher to the stream in chunks of this many: one element per
    /// record would cost an actor hop every few records (the boundary's buffer is 16 elements).
    /// </summary>
    public const int ChunkSize = 512;

    public static Source<RawRecord, NotUsed> Create(RecordFileReader reader, ReadProgress? progress = null) =>
        Source.FromEnumerator(() => reader.Read(progress).Chunk(ChunkSize).GetEnumerator())
            .WithAttributes(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"))
            .Async()
            .SelectMany(chunk => chunk)
            .Named("record-file-source");
}
