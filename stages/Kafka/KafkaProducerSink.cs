using StreamDetect.Stages.DeadLetters;
using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Sinks that produce to Kafka with an idempotent producer (enable.idempotence=true, acks=all), at most
/// max-in-flight unacknowledged records (upstream is backpressured beyond that). The materialized task
/// completes when upstream has completed and every record is acknowledged, and fails on a delivery
/// error (after librdkafka's own retries) or a fatal producer error.
/// </summary>
public static class KafkaProducerSink
{
    /// <summary>Produces each record to <paramref name="topic"/>.</summary>
    public static Sink<ProducerRecord, Task> Create(KafkaProducerSettings settings, string topic) =>
        Flow.Create<ProducerRecord>()
            .Select(r => (r, NotUsed.Instance))
            .Via(KafkaProducerFlow.Create<NotUsed>(settings, topic))
            .ToMaterialized(Sink.Ignore<NotUsed>(), Keep.Right)
            .MapMaterializedValue(done => (Task)done);

    /// <summary>Produces alerts to the settings' alert topic (key = userId is the caller's record key).</summary>
    public static Sink<ProducerRecord, Task> Alerts(KafkaProducerSettings settings) => Create(settings, settings.AlertsTopic);

    /// <summary>Writes dead letters (<see cref="DeadLetterJson"/>) to the settings' dead-letter topic.</summary>
    public static Sink<DeadLetter, Task> DeadLetters(KafkaProducerSettings settings, int maxRawBytes) =>
        Flow.Create<DeadLetter>()
            .Select(d => ProducerRecord.ForDeadLetter(d, maxRawBytes))
            .ToMaterialized(Create(settings, settings.DeadLettersTopic), Keep.Right);
}
