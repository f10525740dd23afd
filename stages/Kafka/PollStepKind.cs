namespace StreamDetect.Stages.Kafka;

/// <summary>What a <see cref="KafkaConsumerSession"/>'s poll thread is to do next (see <see cref="PollStep"/>).</summary>
internal enum PollStepKind
{
    /// <summary>Nothing yet: wait (on the session's lock) up to the step's timeout, then ask again.</summary>
    Wait,

    /// <summary>Commit what is done (a commit was requested, or a failed one is due again).</summary>
    Commit,

    /// <summary>Apply the step's pause state to the assignment and poll once with the step's timeout.</summary>
    Poll,

    /// <summary>Leave the poll loop: final commit, then close the consumer.</summary>
    Close,

    /// <summary>A fatal consumer error was reported: leave the poll loop by throwing it.</summary>
    Fail,
}
