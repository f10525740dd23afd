using StreamDetect.Stages.DeadLetters;
using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Produce-then-continue flows: each element's pass-through value is emitted once its record is
/// acknowledged by the brokers (acks=all, idempotent producer), e.g. a <see cref="CommittableOffset"/>
/// to commit a dead-lettered record only after the dead letter is safely written.
/// </summary>
public static class KafkaProducerFlow
{
    /// <summary>Produces to <paramref name="topic"/>; emits pass-throughs in acknowledgement order.</summary>
    public static Flow<(ProducerRecord Record, TPass PassThrough), TPass, NotUsed> Create<TPass>(KafkaProducerSettings settings, string topic)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        return Flow.FromGraph(new KafkaProducerStage<TPass>(settings, topic));
    }

    /// <summary>Writes dead letters (<see cref="DeadLetterJson"/>) to the settings' dead-letter topic.</summary>
    public static Flow<(DeadLetter DeadLetter, TPass PassThrough), TPass, NotUsed> DeadLetters<TPass>(KafkaProducerSettings settings, int maxRawBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRawBytes);
        return Flow.Create<(DeadLetter DeadLetter, TPass PassThrough)>()
            .Select(d => (ProducerRecord.ForDeadLetter(d.DeadLetter, maxRawBytes), d.PassThrough))
            .Via(Create<TPass>(settings, settings.DeadLettersTopic));
    }
}
