using Akka;
using Akka.Streams.Dsl;
using StreamDetect.Models.Events;

namespace StreamDetect.Stages.Generator;

/// <summary>
/// Realistic, labelled e-commerce traffic: normal shoppers (<see cref="ShopperSessionModel"/>, heavy-tailed
/// activity, a daily cycle, Zipf item popularity, per-category prices, stable devices and addresses) and,
/// for a fraction of users, one anomaly episode each (<see cref="Scenarios.Anomalous"/>) after some normal
/// history. Events of an episode have label 1, every other event label 0.
/// </summary>
/// <remarks>
/// Deterministic: the output depends only on the settings (own PRNG, per-user streams, no clock, no hash
/// codes). Streaming: each user is a lazy timeline; <see cref="Events"/> merges them by next-event time with
/// a priority queue, so memory is O(users), not O(events).
/// </remarks>
public sealed class TrafficGenerator
{
    private readonly GenerationContext _context;
    private long _produced;

    public TrafficGenerator(GeneratorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        _context = new GenerationContext(settings);
    }

    public GeneratorSettings Settings { get; }

    /// <summary>userId -> scenario name or <see cref="Scenarios.Normal"/>, for every user; fixed at construction.</summary>
    public IReadOnlyDictionary<string, string> Truth => _context.Plan.Truth;

    /// <summary>Number of anomalous users per scenario (every scenario listed, possibly with 0).</summary>
    public IReadOnlyDictionary<string, int> AnomalousUsersByScenario => _context.Plan.AnomalousUsersByScenario;

    /// <summary>Events produced so far by all enumerations of <see cref="Events"/> (for progress and tests).</summary>
    public long Produced => Volatile.Read(ref _produced);

    /// <summary>
    /// All users' events merged in global time order; ties are broken by user index (then by the user's own
    /// order), so the sequence is fully deterministic. Each enumeration generates the traffic afresh.
    /// </summary>
    public IEnumerable<UserEvent> Events()
    {
        int users = Settings.Users;
        var queue = new PriorityQueue<UserTimeline, TimelineKey>(users);
        var walkers = new Stack<ShopperSession>();
        for (int i = 0; i < users; i++)
        {
            var timeline = new UserTimeline(_context, i, walkers);
            if (timeline.MoveNext()) queue.Enqueue(timeline, new TimelineKey(timeline.PendingTimestampMs, i));
        }
        while (queue.TryPeek(out UserTimeline? timeline, out _))
        {
            UserEvent next = timeline.Emit();
            if (timeline.MoveNext()) queue.DequeueEnqueue(timeline, new TimelineKey(timeline.PendingTimestampMs, timeline.Index));
            else queue.Dequeue();
            Interlocked.Increment(ref _produced);
            yield return next;
        }
    }

    /// <summary>
    /// The traffic as an Akka.Streams source: generated lazily, one element per downstream demand (it never
    /// runs ahead of backpressure), completed at the end of the period. Each materialization starts afresh.
    /// </summary>
    public Source<UserEvent, NotUsed> ToSource() => Source.From(Events()).Named("traffic-generator");

    /// <inheritdoc cref="ToSource"/>
    public static Source<UserEvent, NotUsed> AsSource(GeneratorSettings settings) => new TrafficGenerator(settings).ToSource();

    private readonly record struct TimelineKey(long TimestampMs, int UserIndex) : IComparable<TimelineKey>
    {
        public int CompareTo(TimelineKey other)
        {
            int byTime = TimestampMs.CompareTo(other.TimestampMs);
            return byTime != 0 ? byTime : UserIndex.CompareTo(other.UserIndex);
        }
    }
}
