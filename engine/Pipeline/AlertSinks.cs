using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Where alerts go: a JSON Lines file, stdout, a Kafka topic (key = userId), or nowhere.</summary>
public static class AlertSinks
{
    /// <param name="append">Keep what the file holds (a restart on the same state) instead of starting it anew.</param>
    public static Sink<Alert, Task> File(string path, AlertSettings settings, bool append = false)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        return Flow.Create<Alert>()
            .Select(a => ByteString.FromBytes(Line(a, settings)))
            .ToMaterialized(FileIO.ToFile(new FileInfo(path), append ? FileMode.Append : FileMode.Create), Keep.Right)
            .MapMaterializedValue(t => (Task)t);
    }

    public static Sink<Alert, Task> Stdout(AlertSettings settings)
    {
        var stdout = Console.OpenStandardOutput();
        return Sink.ForEach<Alert>(a =>
        {
            stdout.Write(Line(a, settings));
            stdout.Flush();
        }).MapMaterializedValue(t => (Task)t);
    }

    public static Sink<Alert, Task> Kafka(KafkaProducerSettings producer, AlertSettings settings) =>
        Flow.Create<Alert>()
            .Select(a => new ProducerRecord(a.UserId, AlertJson.ToUtf8(a, settings)))
            .ToMaterialized(KafkaProducerSink.Alerts(producer), Keep.Right);

    public static Sink<Alert, Task> None() => Sink.Ignore<Alert>().MapMaterializedValue(t => (Task)t);

    private static byte[] Line(Alert alert, AlertSettings settings)
    {
        byte[] json = AlertJson.ToUtf8(alert, settings);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }
}
