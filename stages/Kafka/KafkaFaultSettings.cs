using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// How every Kafka client of a run meets an unhealthy cluster (keys directly under <c>streamdetect.kafka</c>):
/// the start-up check's timeout, how long the brokers may be unreachable while a run goes on, how retries back
/// off, what records lost to retention do, and how often a repeated client error is logged. Immutable.
/// </summary>
public sealed class KafkaFaultSettings
{
    /// <summary>Code defaults, the same as hocon/streamdetect.conf's.</summary>
    public static KafkaFaultSettings Default { get; } = new();

    /// <summary>How long the start-up check waits for a broker to answer (<c>connect-timeout</c>).</summary>
    public TimeSpan ConnectTimeout { get; private set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long no broker may be reachable during a run before it stops with exit code 4; zero retries forever (<c>unavailable-timeout</c>).</summary>
    public TimeSpan UnavailableTimeout { get; private set; } = TimeSpan.FromSeconds(60);

    /// <summary>What records deleted by retention before they were read do (<c>on-retention-loss</c>).</summary>
    public RetentionLossPolicy OnRetentionLoss { get; private set; } = RetentionLossPolicy.Report;

    /// <summary>A repeated client error or warning is logged once per this long, with the count held back (<c>log-repeat-interval</c>); zero logs every one.</summary>
    public TimeSpan LogRepeatInterval { get; private set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The first wait before a refused request is tried again (<c>retry-backoff</c>): librdkafka's produce, fetch and
    /// metadata retries and reconnects (retry.backoff.ms, reconnect.backoff.ms) and the consumer's commit retries.
    /// </summary>
    public TimeSpan RetryBackoff { get; private set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between retries; each failure doubles the wait up to this (<c>retry-backoff-max</c>; retry.backoff.max.ms, reconnect.backoff.max.ms).</summary>
    public TimeSpan RetryBackoffMax { get; private set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the consumer's last commit, when it closes, is retried with backoff while the coordinator refuses it
    /// (<c>final-commit-timeout</c>); zero tries once.
    /// </summary>
    public TimeSpan FinalCommitTimeout { get; private set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait before retry number <paramref name="failures"/> (1 = after the first failure): <see cref="RetryBackoff"/> doubled per earlier failure, at most <see cref="RetryBackoffMax"/>.</summary>
    public TimeSpan RetryDelay(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        double ms = RetryBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ms, RetryBackoffMax.TotalMilliseconds));
    }

    /// <summary>
    /// The librdkafka properties that carry the backoff to every client (retry.backoff.ms, retry.backoff.max.ms,
    /// reconnect.backoff.ms, reconnect.backoff.max.ms), each only where <paramref name="properties"/> does not set it.
    /// </summary>
    internal void ApplyBackoff(IDictionary<string, string> properties)
    {
        string initial = ((long)RetryBackoff.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string max = ((long)RetryBackoffMax.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        properties.TryAdd("retry.backoff.ms", initial);
        properties.TryAdd("retry.backoff.max.ms", max);
        properties.TryAdd("reconnect.backoff.ms", initial);
        properties.TryAdd("reconnect.backoff.max.ms", max);
    }

    /// <summary>Reads the keys under <c>streamdetect.kafka</c>; a key that is absent keeps its default. Errors name the key.</summary>
    public static KafkaFaultSettings Create(Config config)
    {
        if (!config.HasPath(KafkaClientProperties.SharedPath)) return Default;
        var r = new SettingsReader(config, KafkaClientProperties.SharedPath);
        return new KafkaFaultSettings
        {
            ConnectTimeout = r.Has("connect-timeout") ? r.Duration("connect-timeout") : Default.ConnectTimeout,
            UnavailableTimeout = r.Has("unavailable-timeout") ? r.Duration("unavailable-timeout", allowZero: true) : Default.UnavailableTimeout,
            OnRetentionLoss = r.Has("on-retention-loss")
                ? r.OneOf("on-retention-loss", "report", "fail") == "fail" ? RetentionLossPolicy.Fail : RetentionLossPolicy.Report
                : Default.OnRetentionLoss,
            LogRepeatInterval = r.Has("log-repeat-interval") ? r.Duration("log-repeat-interval", allowZero: true) : Default.LogRepeatInterval,
            FinalCommitTimeout = r.Has("final-commit-timeout") ? r.Duration("final-commit-timeout", allowZero: true) : Default.FinalCommitTimeout,
            RetryBackoff = r.Has("retry-backoff") ? r.Duration("retry-backoff") : Default.RetryBackoff,
            RetryBackoffMax = r.Has("retry-backoff-max") ? r.Duration("retry-backoff-max") : Default.RetryBackoffMax,
        }.CheckBackoff(r);
    }

    private KafkaFaultSettings CheckBackoff(SettingsReader r)
    {
        // librdkafka's limits: retry.backoff.max.ms is 1 ms to 300 s and not below retry.backoff.ms.
        if (RetryBackoff < TimeSpan.FromMilliseconds(1) || RetryBackoff > TimeSpan.FromSeconds(300))
            throw new SettingsException(r.Key("retry-backoff"), $"must be 1ms to 300s, not {RetryBackoff.TotalMilliseconds:0.###}ms");
        if (RetryBackoffMax < RetryBackoff || RetryBackoffMax > TimeSpan.FromSeconds(300))
            throw new SettingsException(r.Key("retry-backoff-max"), $"must be {RetryBackoff.TotalMilliseconds:0.###}ms (retry-backoff) to 300s, not {RetryBackoffMax.TotalMilliseconds:0.###}ms");
        return this;
    }

    public KafkaFaultSettings WithConnectTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return Copy(s => s.ConnectTimeout = timeout);
    }

    public KafkaFaultSettings WithUnavailableTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return Copy(s => s.UnavailableTimeout = timeout);
    }

    public KafkaFaultSettings WithOnRetentionLoss(RetentionLossPolicy policy) => Copy(s => s.OnRetentionLoss = policy);

    public KafkaFaultSettings WithLogRepeatInterval(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        return Copy(s => s.LogRepeatInterval = interval);
    }

    public KafkaFaultSettings WithFinalCommitTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return Copy(s => s.FinalCommitTimeout = timeout);
    }

    /// <summary>Retries wait <paramref name="initial"/>, doubling up to <paramref name="max"/> (see <see cref="RetryBackoff"/>).</summary>
    public KafkaFaultSettings WithRetryBackoff(TimeSpan initial, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initial, TimeSpan.FromMilliseconds(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        return Copy(s =>
        {
            s.RetryBackoff = initial;
            s.RetryBackoffMax = max;
        });
    }

    public override string ToString() =>
        $"connect-timeout {ConnectTimeout.TotalSeconds:0.###}s, unavailable-timeout {UnavailableTimeout.TotalSeconds:0.###}s, retry-backoff {RetryBackoff.TotalMilliseconds:0.###}ms to {RetryBackoffMax.TotalSeconds:0.###}s, final-commit-timeout {FinalCommitTimeout.TotalSeconds:0.###}s, on-retention-loss {OnRetentionLoss.ToString().ToLowerInvariant()}";

    private KafkaFaultSettings Copy(Action<KafkaFaultSettings> change)
    {
        var copy = (KafkaFaultSettings)MemberwiseClone();
        change(copy);
        return copy;
    }
}
