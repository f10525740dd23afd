using System.Buffers;
using System.Text.Json;
using Akka.Streams;
using Akka.Streams.IO;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Writes the feature vector of every scored event as one JSON line
/// (<c>{"userId","eventIndex","time","features":[...]}</c>), for inspecting what the models see.
/// </summary>
public static class FeatureDumpSink
{
    public static Sink<ScoringRequest, Task> Create(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        return Flow.Create<ScoringRequest>()
            .Select(r => Akka.IO.ByteString.FromBytes(Lines(r)))
            .ToMaterialized(FileIO.ToFile(new FileInfo(path)), Keep.Right)
            .MapMaterializedValue(writing => Named(writing, path));
    }

    /// <summary>
    /// A dump file that fails while the run goes on (a full disk) is named with its option, not taken for the input file;
    /// a failure the file sink reports in its result (its last flush, at the end) fails the run too, not only a failed task.
    /// </summary>
    private static async Task Named(Task<IOResult> writing, string path)
    {
        IOResult result;
        try
        {
            result = await writing;
        }
        catch (Exception e) when (WritableOutputFile.WriteFailed("--dump-features", path, e) is { } named)
        {
            throw named;
        }
        if (!result.WasSuccessful) throw WritableOutputFile.Named("--dump-features", path, result.Error);
    }

    /// <summary>One line per new event of the request.</summary>
    public static byte[] Lines(ScoringRequest r)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024 * r.NewEvents);
        int f = FeatureSchema.Count;
        Span<byte> ts = stackalloc byte[32];
        for (int j = 0; j < r.NewEvents; j++)
        {
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("userId", r.UserId);
                w.WriteNumber("eventIndex", r.EventIndexOf(j));
                int n = UserEventJson.FormatTimestamp(r.Window[r.FirstNewIndex + j].TimestampMs, ts);
                w.WriteString("time", ts[..n]);
                w.WriteStartArray("features");
                foreach (float v in r.Features.AsSpan(j * f, f)) w.WriteNumberValue(v);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            buffer.Write("\n"u8);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
