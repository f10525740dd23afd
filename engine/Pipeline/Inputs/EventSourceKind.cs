namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>Where `run` reads events (<c>streamdetect.source</c>, <c>run --source</c>); each kind is one <see cref="IEventInput"/>.</summary>
public enum EventSourceKind
{
    /// <summary>A JSON Lines or CSV file (<c>--input</c>; <c>-</c> is stdin).</summary>
    File,

    /// <summary>The built-in generator of labelled traffic (<c>streamdetect.generator</c>).</summary>
    Generator,

    /// <summary>Kafka topics through a consumer group (<c>streamdetect.kafka.consumer</c>).</summary>
    Kafka,
}
