using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// Where alerts go: a JSON Lines file (or named pipe), stdout, a Kafka topic (key = userId), or nowhere.
/// Each output passes an alert on once it has taken it (written and flushed, or acknowledged by the
/// brokers), so the partitions can record it as delivered.
/// </summary>
public static class AlertOutputs
{
    /// <param name="fresh">The run's state is fresh: a regular file is started anew (else appended to, a partial last line cut off).</param>
    public static Flow<AlertRecord, AlertRecord, NotUsed> File(string path, bool fresh, TextWriter log) =>
        Flow.FromGraph(new AlertFileWriter(path, fresh, message => log.WriteLine(message)));

    public static Flow<AlertRecord, AlertRecord, NotUsed> Stdout() =>
        Flow.FromGraph(new AlertFileWriter("stdout", Console.OpenStandardOutput));

    public static Flow<AlertRecord, AlertRecord, NotUsed> Kafka(KafkaProducerSettings producer) =>
        Flow.Create<AlertRecord>()
            .Select(a => (new ProducerRecord(a.UserId, a.Json), a))
            .Via(KafkaProducerFlow.Create<AlertRecord>(producer, producer.AlertsTopic));

    public static Flow<AlertRecord, AlertRecord, NotUsed> None() => Flow.Create<AlertRecord>();
}
