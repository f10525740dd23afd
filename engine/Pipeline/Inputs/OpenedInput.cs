using Akka.Streams.Dsl;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>An input opened for a run.</summary>
/// <param name="Events">The valid events; the materialized task completes with the dead letters' counts.</param>
/// <param name="Description">How the report names the input.</param>
/// <param name="Truth">userId -> scenario or "normal", when the input comes with ground truth.</param>
/// <param name="Kafka">The Kafka consumer behind the events (stop, drain, commit), for a Kafka input.</param>
public sealed record OpenedInput(Source<IngestedEvent, Task<DeadLetterSummary>> Events, string Description, IReadOnlyDictionary<string, string>? Truth, KafkaEventSource? Kafka = null);
