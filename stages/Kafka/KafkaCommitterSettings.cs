using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// How the committer batches offset commits (HOCON block <c>streamdetect.kafka.consumer.commit</c>): a
/// commit is sent after <see cref="MaxBatch"/> processed records or <see cref="MaxInterval"/>, whichever
/// comes first, and once more when the stream ends.
/// </summary>
public sealed class KafkaCommitterSettings
{
    private KafkaCommitterSettings(int maxBatch, TimeSpan maxInterval)
    {
        MaxBatch = maxBatch;
        MaxInterval = maxInterval;
    }

    /// <summary>Processed records after which a commit is sent.</summary>
    public int MaxBatch { get; private set; }

    /// <summary>Longest time a processed record waits for its commit.</summary>
    public TimeSpan MaxInterval { get; private set; }

    /// <summary>1000 records or 1 s.</summary>
    public static KafkaCommitterSettings Default { get; } = new(1000, TimeSpan.FromSeconds(1));

    /// <summary>Reads a <c>commit { max-batch, max-interval }</c> block.</summary>
    public static KafkaCommitterSettings Create(SettingsReader commit) =>
        new(commit.Int("max-batch", min: 1, max: 1_000_000), commit.Duration("max-interval"));

    public KafkaCommitterSettings WithMaxBatch(int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        return new KafkaCommitterSettings(maxBatch, MaxInterval);
    }

    public KafkaCommitterSettings WithMaxInterval(TimeSpan maxInterval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxInterval, TimeSpan.Zero);
        return new KafkaCommitterSettings(MaxBatch, maxInterval);
    }

    public override string ToString() => $"commit every {MaxBatch} records or {MaxInterval.TotalMilliseconds} ms";
}
