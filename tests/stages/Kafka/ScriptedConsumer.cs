using Confluent.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

/// <summary>
/// A consumer whose <see cref="Consume(TimeSpan)"/> plays a script, one step per call: first the step's action
/// (what a rebalance callback does inside librdkafka's consume call), then its record (null: nothing fetched).
/// Once the script is played, every call returns null. Only what <c>KafkaPoller</c> calls is implemented;
/// the rest throws, so a poller that starts using more fails its tests instead of reading made-up answers.
/// </summary>
internal sealed class ScriptedConsumer : IConsumer<byte[]?, byte[]?>
{
    private readonly Queue<(Action? During, ConsumeResult<byte[]?, byte[]?>? Result)> _script = new();
    private readonly List<TopicPartition> _paused = [];

    /// <summary>The timeouts of the calls to <see cref="Consume(TimeSpan)"/>, in order.</summary>
    public List<TimeSpan> ConsumeTimeouts { get; } = [];

    /// <summary>Steps not played yet (records never consumed stay here).</summary>
    public int Unplayed => _script.Count;

    /// <summary>The partitions paused now.</summary>
    public IReadOnlyList<TopicPartition> PausedPartitions => _paused;

    /// <summary>The next call to <see cref="Consume(TimeSpan)"/> runs <paramref name="during"/>, then returns <paramref name="result"/>.</summary>
    public ScriptedConsumer Then(ConsumeResult<byte[]?, byte[]?>? result, Action? during = null)
    {
        _script.Enqueue((during, result));
        return this;
    }

    /// <summary>A fetched record of <paramref name="topic"/>.</summary>
    public static ConsumeResult<byte[]?, byte[]?> Record(string topic, int partition, long offset) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[]?, byte[]?> { Key = null, Value = [1], Timestamp = Timestamp.Default },
    };

    /// <summary>librdkafka's end-of-partition event (enable.partition.eof), not a record.</summary>
    public static ConsumeResult<byte[]?, byte[]?> EndOfPartition(string topic, int partition, long offset) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        IsPartitionEOF = true,
    };

    public ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout)
    {
        ConsumeTimeouts.Add(timeout);
        if (!_script.TryDequeue(out var step)) return null;
        step.During?.Invoke();
        return step.Result;
    }

    public List<TopicPartition> Assignment { get; set; } = [];

    public void Pause(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
            if (!_paused.Contains(partition)) _paused.Add(partition);
    }

    public void Resume(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions) _paused.Remove(partition);
    }

    public void Dispose()
    {
    }

    private static NotSupportedException NotScripted() => new("ScriptedConsumer: not used by KafkaPoller");

    public ConsumeResult<byte[]?, byte[]?> Consume(int millisecondsTimeout) => throw NotScripted();
    public ConsumeResult<byte[]?, byte[]?> Consume(CancellationToken cancellationToken = default) => throw NotScripted();
    public string MemberId => throw NotScripted();
    public List<string> Subscription => throw NotScripted();
    public IConsumerGroupMetadata ConsumerGroupMetadata => throw NotScripted();
    public Handle Handle => throw NotScripted();
    public string Name => throw NotScripted();
    public void Subscribe(IEnumerable<string> topics) => throw NotScripted();
    public void Subscribe(string topic) => throw NotScripted();
    public void Unsubscribe() => throw NotScripted();
    public void Assign(TopicPartition partition) => throw NotScripted();
    public void Assign(TopicPartitionOffset partition) => throw NotScripted();
    public void Assign(IEnumerable<TopicPartitionOffset> partitions) => throw NotScripted();
    public void Assign(IEnumerable<TopicPartition> partitions) => throw NotScripted();
    public void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions) => throw NotScripted();
    public void IncrementalAssign(IEnumerable<TopicPartition> partitions) => throw NotScripted();
    public void IncrementalUnassign(IEnumerable<TopicPartition> partitions) => throw NotScripted();
    public void Unassign() => throw NotScripted();
    public void StoreOffset(ConsumeResult<byte[]?, byte[]?> result) => throw NotScripted();
    public void StoreOffset(TopicPartitionOffset offset) => throw NotScripted();
    public List<TopicPartitionOffset> Commit() => throw NotScripted();
    public void Commit(IEnumerable<TopicPartitionOffset> offsets) => throw NotScripted();
    public void Commit(ConsumeResult<byte[]?, byte[]?> result) => throw NotScripted();
    public void Seek(TopicPartitionOffset tpo) => throw NotScripted();
    public List<TopicPartitionOffset> Committed(TimeSpan timeout) => throw NotScripted();
    public List<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout) => throw NotScripted();
    public Offset Position(TopicPartition partition) => throw NotScripted();
    public List<TopicPartitionOffset> OffsetsForTimes(IEnumerable<TopicPartitionTimestamp> timestampsToSearch, TimeSpan timeout) => throw NotScripted();
    public WatermarkOffsets GetWatermarkOffsets(TopicPartition topicPartition) => throw NotScripted();
    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition topicPartition, TimeSpan timeout) => throw NotScripted();
    public void Close() => throw NotScripted();
    public int AddBrokers(string brokers) => throw NotScripted();
    public void SetSaslCredentials(string username, string password) => throw NotScripted();
}
