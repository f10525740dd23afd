using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Configuration;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Engine.Pipeline.Outputs;

/// <summary>A Kafka topic through the idempotent producer, key = userId; an alert is passed on once the brokers acknowledged it.</summary>
public sealed class KafkaAlertOutput : IAlertOutput
{
    public AlertSinkKind Kind => AlertSinkKind.Kafka;

    public string Name => "kafka";

    /// <summary>The settings read, the brokers answer within streamdetect.kafka.connect-timeout and the alert topic exists (exit code 4 otherwise).</summary>
    public void Validate(RunPlan plan)
    {
        var producer = KafkaProducerSettings.Create(plan.Config);
        KafkaClusterCheck.RequireTopics(producer.BootstrapServers, producer.Properties,
            new Dictionary<string, string> { [producer.AlertsTopic] = $"alerts, {KafkaProducerSettings.Path}.alerts-topic" }, producer.Faults.ConnectTimeout);
    }

    public Flow<AlertRecord, AlertRecord, NotUsed> Open(RunPlan plan, bool freshState, TextWriter log)
    {
        var producer = KafkaProducerSettings.Create(plan.Config);
        return Flow.Create<AlertRecord>()
            .Select(a => (new ProducerRecord(a.UserId, a.Json), a))
            .Via(KafkaProducerFlow.Create<AlertRecord>(producer, producer.AlertsTopic));
    }

    public HashSet<string> AlreadyWritten(RunPlan plan, IReadOnlyCollection<string> alertIds)
    {
        var producer = KafkaProducerSettings.Create(plan.Config);
        try
        {
            return EmittedAlerts.InTopic(producer, plan.Alerts.ReadBack, TimeSpan.FromSeconds(30), alertIds);
        }
        catch (Confluent.Kafka.KafkaException e)
        {
            throw new UserInputException($"could not read back the alert topic '{producer.AlertsTopic}' at {producer.BootstrapServers}: {e.Error.Reason} " +
                                         "(streamdetect.alerts.read-back = 0 skips it)", e);
        }
    }
}
