using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// How every Kafka client of a run meets an unhealthy cluster (keys directly under <c>streamdetect.kafka</c>):
/// the start-up check's timeout, how long the brokers may be unreachable while a run goes on, what records
/// lost to retention do, and how often a repeated client error is logged. Immutable.
/// </summary>
public sealed class KafkaFaultSettings
{
    /// <summary>Code defaults, the same as hocon/streamdetect.conf's.</summary>
    public static KafkaFaultSettings Default { get; } = new();

    /// <summary>How long the start-up check waits for a broker to answer (<c>connect-timeout</c>).</summary>
    public TimeSpan ConnectTimeout { get; private init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long no broker may be reachable during a run before it stops with exit code 4; zero retries forever (<c>unavailable-timeout</c>).</summary>
    public TimeSpan UnavailableTimeout { get; private init; } = TimeSpan.FromSeconds(60);

    /// <summary>What records deleted by retention before they were read do (<c>on-retention-loss</c>).</summary>
    public RetentionLossPolicy OnRetentionLoss { get; private init; } = RetentionLossPolicy.Report;

    /// <summary>A repeated client error or warning is logged once per this long, with the count held back (<c>log-repeat-interval</c>); zero logs every one.</summary>
    public TimeSpan LogRepeatInterval { get; private init; } = TimeSpan.FromSeconds(30);

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
        };
    }

    public KafkaFaultSettings WithConnectTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return new KafkaFaultSettings { ConnectTimeout = timeout, UnavailableTimeout = UnavailableTimeout, OnRetentionLoss = OnRetentionLoss, LogRepeatInterval = LogRepeatInterval };
    }

    public KafkaFaultSettings WithUnavailableTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return new KafkaFaultSettings { ConnectTimeout = ConnectTimeout, UnavailableTimeout = timeout, OnRetentionLoss = OnRetentionLoss, LogRepeatInterval = LogRepeatInterval };
    }

    public KafkaFaultSettings WithOnRetentionLoss(RetentionLossPolicy policy) =>
        new() { ConnectTimeout = ConnectTimeout, UnavailableTimeout = UnavailableTimeout, OnRetentionLoss = policy, LogRepeatInterval = LogRepeatInterval };

    public KafkaFaultSettings WithLogRepeatInterval(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        return new KafkaFaultSettings { ConnectTimeout = ConnectTimeout, UnavailableTimeout = UnavailableTimeout, OnRetentionLoss = OnRetentionLoss, LogRepeatInterval = interval };
    }

    public override string ToString() =>
        $"connect-timeout {ConnectTimeout.TotalSeconds:0.###}s, unavailable-timeout {UnavailableTimeout.TotalSeconds:0.###}s, on-retention-loss {OnRetentionLoss.ToString().ToLowerInvariant()}";
}
