using StreamDetect.Engine.Configuration;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>Kafka topics through a consumer group (<c>streamdetect.kafka.consumer</c>), offsets committed after persistence.</summary>
public sealed class KafkaInput : IEventInput
{
    public EventSourceKind Kind => EventSourceKind.Kafka;

    public string Name => "kafka";

    public bool SameOnEveryRun => false;

    public void Validate(RunPlan plan)
    {
        if (plan.Request.Input is not null) throw new UserInputException("--input is only read with --source file (the source is kafka)");
        if (plan.Request.ModelPath is null && !plan.Request.IngestOnly)
            throw new UserInputException("--source kafka needs a trained model: --model FILE (train one with `streamdetect train`), or --ingest-only");
    }

    public (IEnumerable<UserEvent> Events, long? CutMs) TrainingEvents(RunPlan plan) =>
        throw new UserInputException("--source kafka needs a trained model: --model FILE (train one with `streamdetect train`), or --ingest-only");

    public double? EvaluatedDays(RunPlan plan) => null;

    public OpenedInput Open(RunPlan plan, InputContext context)
    {
        var consumer = KafkaConsumerSettings.Create(plan.Config);
        var producer = plan.Request.DeadLetterSink == Outputs.DeadLetterSinkKind.Kafka ? KafkaProducerSettings.Create(plan.Config) : null;
        var kafka = new KafkaEventSource(consumer, producer, context.Parser, plan.DeadLetters.MaxRawBytes, context.Materializer);
        return new OpenedInput(kafka.Events(context.Progress),
            $"kafka {string.Join(",", consumer.Topics)} @ {consumer.BootstrapServers} (group {consumer.GroupId})", null, kafka);
    }
}
