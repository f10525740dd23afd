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
        CheckCluster(plan);
    }

    /// <summary>
    /// Before any work starts: the brokers answer within streamdetect.kafka.connect-timeout, and the event
    /// topics, the dead-letter topic (when dead letters go to Kafka) and the feedback topics (when read) exist.
    /// The alert topic is checked by the Kafka alert output. Exit code 4 otherwise.
    /// </summary>
    private static void CheckCluster(RunPlan plan)
    {
        var consumer = KafkaConsumerSettings.Create(plan.Config);
        var topics = consumer.Topics.Distinct().ToDictionary(t => t, _ => $"events, {KafkaConsumerSettings.EventsPath}.topics");
        var deadLetters = plan.Request.DeadLetterSink == Outputs.DeadLetterSinkKind.Kafka ? KafkaProducerSettings.Create(plan.Config) : null;
        if (deadLetters is not null && deadLetters.BootstrapServers == consumer.BootstrapServers)
            topics.TryAdd(deadLetters.DeadLettersTopic, $"dead letters, {KafkaProducerSettings.Path}.dead-letters-topic");
        KafkaClusterCheck.RequireTopics(consumer.BootstrapServers, consumer.Properties, topics, consumer.Faults.ConnectTimeout);
        if (deadLetters is not null && deadLetters.BootstrapServers != consumer.BootstrapServers)
        {
            KafkaClusterCheck.RequireTopics(deadLetters.BootstrapServers, deadLetters.Properties,
                new Dictionary<string, string> { [deadLetters.DeadLettersTopic] = $"dead letters, {KafkaProducerSettings.Path}.dead-letters-topic" },
                deadLetters.Faults.ConnectTimeout);
        }
        if (new Stages.Configuration.SettingsReader(plan.Config, KafkaConsumerSettings.FeedbackPath).Bool("enabled"))
        {
            var feedback = KafkaConsumerSettings.Create(plan.Config, KafkaConsumerSettings.FeedbackPath);
            KafkaClusterCheck.RequireTopics(feedback.BootstrapServers, feedback.Properties,
                feedback.Topics.Distinct().ToDictionary(t => t, _ => $"feedback labels, {KafkaConsumerSettings.FeedbackPath}.topics"), feedback.Faults.ConnectTimeout);
        }
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
