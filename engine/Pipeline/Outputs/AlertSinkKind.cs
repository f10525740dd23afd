namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>Where alerts go (<c>streamdetect.alerts.sink</c>); each kind is one <see cref="IAlertOutput"/>.</summary>
public enum AlertSinkKind
{
    /// <summary>One JSON object per line on stdout (the report then goes to stderr).</summary>
    Stdout,

    /// <summary>A JSON Lines file or named pipe (<c>run --alerts FILE</c>).</summary>
    File,

    /// <summary>A Kafka topic, key = userId (<c>streamdetect.kafka.producer.alerts-topic</c>).</summary>
    Kafka,

    /// <summary>Nowhere: alerts are counted (benchmarks).</summary>
    None,
}
