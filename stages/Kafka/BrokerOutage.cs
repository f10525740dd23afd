namespace StreamDetect.Stages.Kafka;

/// <summary>
/// How long a client has been without any reachable broker: librdkafka reports "all brokers down", and
/// anything that proves a broker answered (a record, a metadata reply) ends the outage. Times are passed
/// in (any monotonic clock), so it is tested without a broker. Not thread-safe.
/// </summary>
internal sealed class BrokerOutage
{
    private readonly TimeSpan _limit;

    /// <param name="limit">How long an outage may last before <see cref="Exceeded"/>; zero: never (retry forever).</param>
    public BrokerOutage(TimeSpan limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, TimeSpan.Zero);
        _limit = limit;
    }

    /// <summary>When the current outage began; null while a broker is reachable.</summary>
    public TimeSpan? Since { get; private set; }

    public bool Down => Since is not null;

    /// <summary>No broker is reachable (the first report starts the outage; later ones do not move it).</summary>
    public void AllBrokersDown(TimeSpan now) => Since ??= now;

    /// <summary>A broker answered: the outage (if any) is over. Returns how long it lasted, or null.</summary>
    public TimeSpan? BrokerAnswered(TimeSpan now)
    {
        if (Since is not TimeSpan since) return null;
        Since = null;
        return now - since;
    }

    /// <summary>Whether the outage has lasted longer than the limit (never with a zero limit).</summary>
    public bool Exceeded(TimeSpan now) => _limit > TimeSpan.Zero && Since is TimeSpan since && now - since >= _limit;
}
