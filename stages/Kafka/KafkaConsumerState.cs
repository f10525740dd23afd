namespace StreamDetect.Stages.Kafka;

/// <summary>Where a <see cref="KafkaConsumerSession"/> is in its life; <see cref="KafkaConsumerStateMachine"/> holds the transitions.</summary>
internal enum KafkaConsumerState
{
    /// <summary>Materialized; the stage has not started it, so no consumer exists yet.</summary>
    Created,

    /// <summary>Stopped before the stage started it: no consumer will be created; Shutdown closes the session.</summary>
    Stopped,

    /// <summary>The consumer has subscribed and waits for the group's first assignment.</summary>
    Joining,

    /// <summary>Fetching and emitting.</summary>
    Consuming,

    /// <summary>
    /// The buffer stayed full for a whole poll timeout (slow or stalled downstream): the assignment is paused,
    /// and polled once a poll timeout so rebalances and the group session are still served; buffered records
    /// are still emitted, and fetching resumes as soon as the buffer has room.
    /// </summary>
    Paused,

    /// <summary>
    /// Stop was called: nothing more is emitted and the assignment is paused, but the consumer stays in the
    /// group (polled once a poll timeout) and commits what the committer reports done, until Shutdown.
    /// </summary>
    Draining,

    /// <summary>Shutdown was called: the poll thread makes its final commit, leaves the group and closes the consumer.</summary>
    ShuttingDown,

    /// <summary>The consumer is closed (or was never created); IsShutdown is complete.</summary>
    Closed,
}
