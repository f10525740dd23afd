using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Writes generated traffic as JSON Lines (the wire format of <see cref="UserEventJson"/>) and the per-user
/// truth file: one JSON object, userId -> scenario, keys in ordinal order. Output is buffered in large
/// chunks.
/// </summary>
public static class GeneratedTrafficWriter
{
    private const int FlushThreshold = 256 * 1024;
    private const int BatchSize = 512;

    /// <summary>Batches of <see cref="BatchSize"/> events that generation may run ahead of writing.</summary>
    private const int QueuedBatches = 4;

    /// <summary>The truth file that goes beside an output file: "FILE.truth.json".</summary>
    public static string TruthPathFor(string outputPath) => outputPath + ".truth.json";

    /// <summary>
    /// Generates all traffic of <paramref name="generator"/> into <paramref name="output"/> (left open).
    /// Generation runs on its own thread and hands over batches of events through a small bounded queue while
    /// this thread serializes and writes them: the two halves cost about the same, so two cores nearly
    /// double the rate, and memory stays bounded (at most <see cref="QueuedBatches"/> batches in flight).
    /// </summary>
    /// <param name="progress">Called about every <paramref name="progressInterval"/> with events written so far and the elapsed time.</param>
    public static GenerationSummary WriteEvents(
        TrafficGenerator generator, Stream output, Action<long, TimeSpan>? progress = null,
        TimeSpan? progressInterval = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        long interval = (long)((progressInterval ?? TimeSpan.FromSeconds(2)).TotalSeconds * Stopwatch.Frequency);
        long nextProgress = interval;
        long events = 0, anomalous = 0, bytes = 0;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var filled = new BlockingCollection<Batch>(QueuedBatches);
        var spare = new ConcurrentQueue<UserEvent[]>();
        Task producer = Task.Factory.StartNew(
            () => Produce(generator, filled, spare, stop.Token), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        try
        {
            var buffer = new ArrayBufferWriter<byte>(FlushThreshold + 64 * 1024);
            using var writer = UserEventJson.CreateWriter(buffer);
            foreach (Batch batch in filled.GetConsumingEnumerable(stop.Token))
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    UserEvent e = batch.Events[i];
                    UserEventJson.Write(writer, e);
                    writer.Flush();
                    writer.Reset();
                    buffer.GetSpan(1)[0] = (byte)'\n';
                    buffer.Advance(1);
                    if (e.Label == 1) anomalous++;
                    if (buffer.WrittenCount >= FlushThreshold) bytes += Drain(buffer, output);
                }
                events += batch.Count;
                Array.Clear(batch.Events, 0, batch.Count);
                spare.Enqueue(batch.Events);
                if (progress is not null && clock.ElapsedTicks >= nextProgress)
                {
                    progress(events, clock.Elapsed);
                    nextProgress = clock.ElapsedTicks + interval;
                }
            }
            bytes += Drain(buffer, output);
            output.Flush();
        }
        catch
        {
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // The producer stopped because we did; the consumer's exception is the one to report.
            }
            throw;
        }
        producer.GetAwaiter().GetResult(); // a generation failure surfaces here
        return new GenerationSummary(events, anomalous, bytes, generator.Settings.Users, generator.AnomalousUsersByScenario, clock.Elapsed);
    }

    /// <summary>Writes the truth map as one JSON object with keys in ordinal order, one entry per line.</summary>
    public static void WriteTruth(IReadOnlyDictionary<string, string> truth, Stream output)
    {
        ArgumentNullException.ThrowIfNull(truth);
        string[] users = truth.Keys.ToArray();
        Array.Sort(users, StringComparer.Ordinal);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        foreach (string user in users) writer.WriteString(user, truth[user]);
        writer.WriteEndObject();
        writer.Flush();
        output.WriteByte((byte)'\n');
        output.Flush();
    }

    private static void Produce(TrafficGenerator generator, BlockingCollection<Batch> filled, ConcurrentQueue<UserEvent[]> spare, CancellationToken stop)
    {
        try
        {
            UserEvent[] events = Rent(spare);
            int count = 0;
            foreach (UserEvent e in generator.Events())
            {
                events[count++] = e;
                if (count < BatchSize) continue;
                filled.Add(new Batch(events, count), stop);
                events = Rent(spare);
                count = 0;
            }
            if (count > 0) filled.Add(new Batch(events, count), stop);
        }
        finally
        {
            filled.CompleteAdding();
        }
    }

    private static UserEvent[] Rent(ConcurrentQueue<UserEvent[]> spare) =>
        spare.TryDequeue(out UserEvent[]? events) ? events : new UserEvent[BatchSize];

    private readonly record struct Batch(UserEvent[] Events, int Count);

    private static long Drain(ArrayBufferWriter<byte> buffer, Stream output)
    {
        int count = buffer.WrittenCount;
        output.Write(buffer.WrittenSpan);
        buffer.ResetWrittenCount();
        return count;
    }
}
