using Akka.Event;
using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Fetches for a <see cref="KafkaConsumerSession"/>'s poll thread: records in batches, and the wanted
/// pause state applied to the consumer's whole assignment. Poll thread only, like every call to the consumer.
/// </summary>
internal sealed class KafkaPoller
{
    /// <summary>Most records taken per poll: bounds the time between two looks at the session's state.</summary>
    public const int MaxBatch = 256;

    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly ILoggingAdapter _log;
    private readonly string _groupId;
    private readonly RepeatedLogFilter _logFilter;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly List<Polled> _batch = new(MaxBatch);
    private bool _paused;
    private bool _assignmentChanged;

    public KafkaPoller(IConsumer<byte[]?, byte[]?> consumer, ILoggingAdapter log, string groupId, RepeatedLogFilter logFilter)
    {
        _logFilter = logFilter;
        _consumer = consumer;
        _log = log;
        _groupId = groupId;
    }

    /// <summary>Whether fetching is paused now (the buffer stayed full): librdkafka learns no new high watermark meanwhile.</summary>
    public bool Paused => _paused;

    /// <summary>Partitions were assigned, revoked or lost: the next <see cref="SetPaused"/> applies its state to the whole assignment again.</summary>
    public void AssignmentChanged() => _assignmentChanged = true;

    /// <summary>Pauses or resumes fetching for the whole assignment.</summary>
    /// <remarks>
    /// librdkafka keeps a partition's pause flag when the partition is revoked, and a partition assigned
    /// again later comes back paused. So after any assignment change the wanted state is applied to the
    /// whole assignment, resuming included; otherwise a partition paused while the buffer was full, lost
    /// in a rebalance and regained, would never be fetched again.
    /// </remarks>
    public void SetPaused(bool paused)
    {
        bool changed = _assignmentChanged;
        _assignmentChanged = false;
        if (paused == _paused && !changed) return;
        var assignment = _consumer.Assignment;
        if (assignment.Count > 0)
        {
            if (paused) _consumer.Pause(assignment);
            else _consumer.Resume(assignment);
        }
        _paused = paused;
    }

    /// <summary>A consumed record and the epoch of its partition's assignment when it was consumed (0: not owned then).</summary>
    public readonly record struct Polled(ConsumeResult<byte[]?, byte[]?> Result, int Epoch);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a record, then takes what librdkafka already has, up to
    /// <paramref name="room"/> records (at least one is taken when there is one: a record consumed is never
    /// put back). Rebalance callbacks run inside, so each record's epoch is read (<paramref name="epochOf"/>) as
    /// it is consumed: a partition revoked and assigned again within one batch is fetched again from its
    /// commit, and the records consumed before belong to the old assignment (given the new epoch, one offset
    /// came twice in an epoch: "offset 598 registered after 598", a node killed in a three-node run).
    /// The list returned is reused by the next call.
    /// </summary>
    public IReadOnlyList<Polled> Poll(TimeSpan timeout, int room, Func<TopicPartition, int> epochOf)
    {
        // Blocking for the first record only, then taking the rest in one go, pays the session's lock and
        // the stage's wake-up once per batch, not per record.
        var batch = _batch;
        batch.Clear();
        int limit = Math.Clamp(room, 1, MaxBatch);
        try
        {
            var result = _consumer.Consume(timeout);
            while (result is not null)
            {
                if (!result.IsPartitionEOF) batch.Add(new Polled(result, epochOf(result.TopicPartition)));
                if (batch.Count >= limit) break;
                result = _consumer.Consume(TimeSpan.Zero);
            }
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            if (_logFilter.ShouldLog(e.Error.Reason, _clock.Elapsed, out long heldBack))
                _log.Warning("Kafka consume on {0}: {1}{2}", _groupId, e.Error.Reason, RepeatedLogFilter.Note(heldBack));
        }
        return batch;
    }
}
