namespace StreamDetect.Stages.Kafka;

/// <summary>What a consumer does when records were deleted by retention before it read them (<c>streamdetect.kafka.on-retention-loss</c>).</summary>
public enum RetentionLossPolicy
{
    /// <summary>Logs the loss per partition, counts it (run summary: <c>events_lost_to_retention</c>) and goes on from the log start.</summary>
    Report,

    /// <summary>Stops the run with exit code 4 and one line naming the topic, partition and count; nothing past the loss is committed.</summary>
    Fail,
}
