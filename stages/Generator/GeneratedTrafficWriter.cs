using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Writes generated traffic as JSON Lines (the wire format of <see cref="UserEventJson"/>) and the per-user
/// truth file: one JSON object, userId -> scenario, keys in ordinal order. Output is buffered in large
/// chunks, so the writer costs little beside generation.
/// </summary>
public static class GeneratedTrafficWriter
{
    private const int FlushThreshold = 256 * 1024;
    private const int CheckEvery = 4096;

    /// <summary>The truth file that goes beside an output file: "FILE.truth.json".</summary>
    public static string TruthPathFor(string outputPath) => outputPath + ".truth.json";

    /// <summary>Generates all traffic of <paramref name="generator"/> into <paramref name="output"/> (left open).</summary>
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

        var buffer = new ArrayBufferWriter<byte>(FlushThreshold + 64 * 1024);
        using var writer = UserEventJson.CreateWriter(buffer);
        foreach (UserEvent e in generator.Events())
        {
            UserEventJson.Write(writer, e);
            writer.Flush();
            writer.Reset();
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
            events++;
            if (e.Label == 1) anomalous++;
            if (buffer.WrittenCount >= FlushThreshold)
            {
                bytes += Drain(buffer, output);
            }
            if (events % CheckEvery == 0)
            {
                cancellation.ThrowIfCancellationRequested();
                if (progress is not null && clock.ElapsedTicks >= nextProgress)
                {
                    progress(events, clock.Elapsed);
                    nextProgress = clock.ElapsedTicks + interval;
                }
            }
        }
        bytes += Drain(buffer, output);
        output.Flush();
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

    private static long Drain(ArrayBufferWriter<byte> buffer, Stream output)
    {
        int count = buffer.WrittenCount;
        output.Write(buffer.WrittenSpan);
        buffer.ResetWrittenCount();
        return count;
    }
}
