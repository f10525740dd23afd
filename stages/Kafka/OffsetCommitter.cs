using Akka.Event;
using Confluent.Kafka;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// Commits offsets synchronously through a <see cref="KafkaConsumerSession"/>'s consumer (poll thread only)
/// and says which the broker accepted. The session decides what to commit (from its
/// <see cref="OffsetTracker"/>) and when; <see cref="KafkaCommitter"/> is the stream's side that asks for it.
/// </summary>
/// <remarks>
/// Only explicit offsets are committed: <c>Commit()</c> without them commits the stored offsets and throws
/// <c>Local_NoOffset</c> when none are stored. A commit can be refused without anything being wrong (the
/// mock cluster refuses every commit during a rebalance; real brokers answer REBALANCE_IN_PROGRESS or time
/// out): that is a warning and a <c>false</c> for the caller to retry, never an exception.
/// </remarks>
internal sealed class OffsetCommitter
{
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly ILoggingAdapter _log;
    private readonly string _groupId;

    public OffsetCommitter(IConsumer<byte[]?, byte[]?> consumer, ILoggingAdapter log, string groupId)
    {
        _consumer = consumer;
        _log = log;
        _groupId = groupId;
    }

    /// <summary>Commits <paramref name="offsets"/>; true when all were accepted. <paramref name="accepted"/> lists those that were.</summary>
    /// <param name="when">Appended to the log lines (e.g. " on revocation").</param>
    public bool TryCommit(IReadOnlyList<TopicPartitionOffset> offsets, string when, out IReadOnlyList<TopicPartitionOffset> accepted)
    {
        if (offsets.Count == 0)
        {
            accepted = offsets;
            return true;
        }
        try
        {
            _consumer.Commit(offsets);
            accepted = offsets;
            if (_log.IsDebugEnabled) _log.Debug("Kafka consumer {0} committed {1}{2}", _groupId, string.Join(", ", offsets), when);
            return true;
        }
        catch (TopicPartitionOffsetException e)
        {
            accepted = e.Results.Where(r => !r.Error.IsError).Select(r => r.TopicPartitionOffset).ToList();
            _log.Warning("Kafka consumer {0}: commit{1} partly failed: {2}", _groupId, when,
                string.Join("; ", e.Results.Where(r => r.Error.IsError).Select(r => $"{r.TopicPartition}: {r.Error.Reason}")));
            return false;
        }
        catch (KafkaException e) when (!e.Error.IsFatal)
        {
            accepted = [];
            _log.Warning("Kafka consumer {0}: commit{1} failed ({2})", _groupId, when, e.Error.Reason);
            return false;
        }
    }
}
