namespace StreamDetect.Stages.Kafka;

/// <summary>The poll thread's next step, as <see cref="KafkaConsumerStateMachine.Next"/> decides it.</summary>
/// <param name="Timeout">For <see cref="PollStepKind.Wait"/>, the longest wait; for <see cref="PollStepKind.Poll"/>, how long the poll may block for a record.</param>
/// <param name="Paused">For <see cref="PollStepKind.Poll"/>, whether the assignment is to be paused (true) or fetched (false).</param>
internal readonly record struct PollStep(PollStepKind Kind, TimeSpan Timeout = default, bool Paused = false)
{
    public static PollStep Wait(TimeSpan timeout) => new(PollStepKind.Wait, timeout);

    public static PollStep Poll(TimeSpan timeout, bool paused) => new(PollStepKind.Poll, timeout, paused);

    public static PollStep Commit { get; } = new(PollStepKind.Commit);

    public static PollStep Close { get; } = new(PollStepKind.Close);

    public static PollStep Fail { get; } = new(PollStepKind.Fail);
}
