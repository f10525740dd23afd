namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>Where rejected records go (<c>streamdetect.dead-letters.sink</c>).</summary>
public enum DeadLetterSinkKind
{
    /// <summary>Counted only (the report lists them by reason).</summary>
    Count,

    /// <summary>A JSON Lines file (<c>run --dead-letters FILE</c>).</summary>
    File,

    /// <summary>A Kafka topic (<c>streamdetect.kafka.producer.dead-letters-topic</c>); with the Kafka source only.</summary>
    Kafka,
}
