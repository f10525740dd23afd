using System.Buffers;
using System.Text.Json;
using Akka.Streams;
using Akka.Streams.IO;
using Akka.Streams.Dsl;
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
            .MapMaterializedValue(t => (Task)t);
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
