using System.Collections.Concurrent;
using System.Diagnostics;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>
/// The shape the engine's run pipeline will have, in small: committable source → decode → either
/// "persist" (main path; here: remember it, completing out of order) or produce to the dead-letter
/// topic → the offsets of done records → committer.
/// </summary>
internal sealed class ProcessingPipeline
{
    private readonly ConcurrentQueue<ParsedRecord> _processed = new();
    private readonly ConcurrentQueue<(SourcePosition Position, long Ticks)> _timeline = new();

    private int _started;

    private ProcessingPipeline() { }

    /// <summary>Records that reached "persisting" (held ones included).</summary>
    public int Started => Volatile.Read(ref _started);

    public IKafkaControl Control { get; private set; } = null!;

    /// <summary>The committer's task: completes after the last commit.</summary>
    public Task Completion { get; private set; } = null!;

    /// <summary>Every record "persisted" or dead-lettered, replays included.</summary>
    public IReadOnlyCollection<ParsedRecord> Processed => _processed;

    public HashSet<SourcePosition> Positions => _processed.Select(p => p.Position).ToHashSet();

    /// <summary>When each record finished "persisting" (Stopwatch ticks), main path only.</summary>
    public IReadOnlyCollection<(SourcePosition Position, long Ticks)> Timeline => _timeline;

    /// <param name="commitIf">Whether a persisted record is reported done (false simulates a crash between persisting and committing).</param>
    /// <param name="delay">Simulated persistence time per record; records complete out of order.</param>
    /// <param name="hold">When given, "persisting" waits for it: a stalled downstream until it completes.</param>
    public static ProcessingPipeline Start(KafkaMockFixture kafka, KafkaConsumerSettings settings,
        KafkaProducerSettings? deadLetters = null, Func<ParsedRecord, bool>? commitIf = null, TimeSpan delay = default,
        Task? hold = null)
    {
        var pipeline = new ProcessingPipeline();
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), settings);
        var random = new Random(7);

        var persist = Flow.Create<(ParsedRecord Parsed, CommittableOffset Offset)>()
            .SelectAsyncUnordered(8, async x =>
            {
                Interlocked.Increment(ref pipeline._started);
                if (hold is not null) await hold;
                if (delay > TimeSpan.Zero) await Task.Delay(TimeSpan.FromTicks(delay.Ticks * random.Next(1, 3)));
                pipeline._processed.Enqueue(x.Parsed);
                pipeline._timeline.Enqueue((x.Parsed.Position, Stopwatch.GetTimestamp()));
                return x;
            })
            .Where(x => commitIf?.Invoke(x.Parsed) ?? true)
            .Select(x => x.Offset);

        var deadLetter = deadLetters is null
            ? Flow.Create<(ParsedRecord Parsed, CommittableOffset Offset)>().Select(x =>
            {
                pipeline._processed.Enqueue(x.Parsed);
                return x.Offset;
            })
            : Flow.Create<(ParsedRecord Parsed, CommittableOffset Offset)>()
                .Select(x => ((DeadLetter)x.Parsed, x.Offset))
                .Via(KafkaProducerFlow.DeadLetters<CommittableOffset>(deadLetters, 4096))
                .Select(offset =>
                {
                    pipeline._processed.Enqueue(new DeadLetter(new RawRecord(Array.Empty<byte>(), offset.Position, 0), default));
                    return offset;
                });

        var source = KafkaConsumerSource.CommittableSource(settings);
        var committer = KafkaCommitter.Sink(settings.Commit);
        var graph = RunnableGraph.FromGraph(GraphDsl.Create(source, committer, Keep.Both, (b, src, sink) =>
        {
            var decode = b.Add(Flow.Create<CommittableRecord>().Select(r => (decoder.Decode(r.Record), r.Offset)));
            var split = b.Add(new Partition<(ParsedRecord Parsed, CommittableOffset Offset)>(2, x => x.Parsed is DeadLetter ? 1 : 0));
            var merge = b.Add(new Merge<CommittableOffset>(2));
            b.From(src).Via(decode).To(split.In);
            b.From(split.Out(0)).Via(persist).To(merge.In(0));
            b.From(split.Out(1)).Via(deadLetter).To(merge.In(1));
            b.From(merge.Out).To(sink);
            return ClosedShape.Instance;
        }));
        var (control, completion) = graph.Run(kafka.Materializer);
        pipeline.Control = control;
        pipeline.Completion = completion;
        return pipeline;
    }

    /// <summary>Waits until at least <paramref name="count"/> distinct positions were processed.</summary>
    public async Task WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (Positions.Count < count)
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(20)))
                throw new TimeoutException($"processed {Positions.Count} of {count} records");
            await Task.Delay(20);
        }
    }

    /// <summary>Lets a little time pass and returns how many records arrived (for "nothing more comes").</summary>
    public async Task<int> CountAfterAsync(TimeSpan quiet)
    {
        await Task.Delay(quiet);
        return _processed.Count;
    }

    public Task DrainAsync() => Control.DrainAndShutdown(Completion);
}
