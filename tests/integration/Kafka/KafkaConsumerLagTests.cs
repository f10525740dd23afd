using System.Diagnostics;
using Confluent.Kafka;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>The consumer's lag per owned partition (the gauge streamdetect.kafka.consumer.lag reads it).</summary>
[Collection(KafkaCollection.Name)]
public sealed class KafkaConsumerLagTests(KafkaMockFixture kafka)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_lag_runs_from_the_committed_offset_to_the_high_watermark_also_while_a_stalled_downstream_pauses_fetching_and_is_0_once_committed()
    {
        const int partitions = 2;
        string topic = kafka.NewTopic("lag", partitions);
        string group = kafka.NewGroup("g");
        kafka.ProduceEvents(topic, 0, 100);
        CommitAtZero(group, topic, partitions);
        var settings = kafka.ConsumerSettings(group, topic).WithBufferSize(16);

        // Nothing is done while held, so nothing is committed: each partition's lag is its end offset.
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipeline = ProcessingPipeline.Start(kafka, settings, hold: hold.Task);
        try
        {
            await UntilLagAsync(pipeline, kafka.EndOffsets(topic, partitions));

            // The buffer stays full, fetching is paused: no fetch brings the new watermarks, the brokers are asked.
            kafka.ProduceEvents(topic, 100, 200);
            await UntilLagAsync(pipeline, kafka.EndOffsets(topic, partitions));
        }
        finally
        {
            hold.TrySetResult();
        }

        // Everything done and committed: no lag.
        await pipeline.WaitForAsync(300, Timeout);
        await UntilLagAsync(pipeline, Enumerable.Range(0, partitions).ToDictionary(p => p, _ => 0L));
        await pipeline.DrainAsync();
        Assert.Empty(pipeline.Control.Lag); // closed: it owns no partition
    }

    /// <summary>The group's committed offsets set to 0 (so the lag before any commit of the test's consumer is known).</summary>
    private void CommitAtZero(string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Bootstrap, GroupId = group, EnableAutoCommit = false }).Build();
        consumer.Commit(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, 0)));
    }

    private static async Task UntilLagAsync(ProcessingPipeline pipeline, Dictionary<int, long> expected)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var lag = pipeline.Control.Lag.ToDictionary(l => l.Partition, l => l.Records);
            if (lag.Count == expected.Count && expected.All(e => lag.GetValueOrDefault(e.Key, -1) == e.Value)) return;
            Assert.True(clock.Elapsed < Timeout, $"lag {string.Join(", ", lag)}, expected {string.Join(", ", expected)}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
