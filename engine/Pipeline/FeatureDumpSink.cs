using System.Text;
using System.Buffers;
using System.Text.Json;
using Akka.Streams;
using Akka.Streams.IO;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Writes each scoring request's feature vector as one JSON line
/// (<c>{"userId","eventCount","lastEventTime","features":[...]}</c>), for inspecting what the models see.
/// </summary>
public static class FeatureDumpSink
{
    public static Sink<ScoringRequest, Task<IOResult>> Create(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        return Flow.Create<ScoringRequest>()
            .Select(r => Akka.IO.ByteString.FromBytes(Line(r)))
            .ToMaterialized(FileIO.ToFile(new FileInfo(path)), Keep.Right);
    }

    public static byte[] Line(ScoringRequest r)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("userId", r.UserId);
            w.WriteNumber("eventCount", r.EventCount);
            Span<byte> ts = stackalloc byte[32];
            int n = UserEventJson.FormatTimestamp(r.LastEventMs, ts);
            w.WriteString("lastEventTime", ts[..n]);
            w.WriteStartArray("features");
            foreach (float f in r.Features) w.WriteNumberValue(f);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
