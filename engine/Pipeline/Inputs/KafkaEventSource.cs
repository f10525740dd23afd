using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>
/// The run's Kafka input: a committable consumer whose records are decoded and validated; valid
/// events go on carrying their offset as <see cref="IngestedEvent.Ack"/>, rejected ones go to the
/// dead-letter topic (or are only counted). One committer receives the offsets of both paths — an
/// event's once it is persisted, a dead letter's once the broker acknowledged it — and commits per
/// partition the highest offset below which everything is done.
/// </summary>
public sealed class KafkaEventSource
{
    private readonly KafkaConsumerSettings _consumer;
    private readonly KafkaProducerSettings? _deadLetterProducer;
    private readonly int _maxRawBytes;
    private readonly KafkaEventDecoder _decoder;
    private readonly Sink<CommittableOffset, NotUsed> _committer;
    private readonly UniqueKillSwitch _committerSwitch;
    private readonly TaskCompletionSource<IKafkaControl> _control = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastActivityTicks = Environment.TickCount64;
    private readonly long _startTicks = Environment.TickCount64;
    private bool _joined;
    private string _lastAssignment = "";

    /// <param name="deadLetterProducer">Where dead letters go; null counts them only (their offsets are still committed).</param>
    public KafkaEventSource(KafkaConsumerSettings consumer, KafkaProducerSettings? deadLetterProducer, EventParser parser, int maxRawBytes, IMaterializer materializer)
    {
        _consumer = consumer;
        _deadLetterProducer = deadLetterProducer;
        _maxRawBytes = maxRawBytes;
        _decoder = new KafkaEventDecoder(parser, consumer);
        // A hub lets two streams (events, dead letters) feed one committer; the kill switch ends it
        // (with a final commit) once both are done.
        var ((hub, killSwitch), committed) = MergeHub.Source<CommittableOffset>(perProducerBufferSize: 256)
            .ViaMaterialized(KillSwitches.Single<CommittableOffset>(), Keep.Both)
            .ToMaterialized(KafkaCommitter.Sink(consumer.Commit), Keep.Both)
            .Run(materializer);
        // Every offset that reaches the committer is a record done: progress, even when no new record
        // arrives because the pipeline is backpressuring the consumer.
        _committer = Flow.Create<CommittableOffset>()
            .Select(offset =>
            {
                Interlocked.Exchange(ref _lastActivityTicks, Environment.TickCount64);
                return offset;
            })
            // A path that fails (the consumer stopped by a broker failure) only stops feeding the committer:
            // the run fails through the event stream, with its one line, not with the hub's stack trace.
            .RecoverWithRetries(_ => Source.Empty<CommittableOffset>(), 1)
            .To(hub);
        _committerSwitch = killSwitch;
        Committed = committed;
    }

    /// <summary>The brokers the consumer connects to.</summary>
    public string BootstrapServers => _consumer.BootstrapServers;

    /// <summary>Completes after the committer's last commit (when the run is over).</summary>
    public Task Committed { get; }

    /// <summary>The consumer's control, once the source is materialized.</summary>
    public Task<IKafkaControl> Control => _control.Task;

    /// <summary>
    /// Milliseconds since a record last arrived or was done (persisted or dead-lettered), or the group last changed the
    /// consumer's partitions, for
    /// --stop-after-idle: a run whose consumer is held back by a slow pipeline is busy, not idle.
    /// </summary>
    public long IdleMilliseconds
    {
        get
        {
            // Joining the group is not idleness: after a crash the group waits for the dead member's session
            // to expire before it assigns anything. The idle time counts from the join (or, should no
            // assignment ever be reported, from JoinGrace after the start).
            if (!_joined)
            {
                bool joined = _control.Task.IsCompletedSuccessfully && _control.Task.Result.Joined;
                if (!joined && Environment.TickCount64 - _startTicks < JoinGrace.TotalMilliseconds) return 0;
                _joined = true;
                Interlocked.Exchange(ref _lastActivityTicks, Math.Max(Interlocked.Read(ref _lastActivityTicks), Environment.TickCount64));
            }
            // A new assignment is new input: the partitions it brought (a killed or departed member's, moved by the group)
            // may hold records no one read. Seen in a local cluster at load 30: a node that got its share, then waited for
            // the other nodes to be ready and the feed to start, counted that wait as idleness and drained just as the
            // records came; the partitions it still held were read by no one for the rest of the run (2,329 of 5,164).
            if (_control.Task.IsCompletedSuccessfully)
            {
                string assignment = string.Join(',', _control.Task.Result.Assignment.Select(p => p.ToString()).Order(StringComparer.Ordinal));
                if (assignment != _lastAssignment)
                {
                    _lastAssignment = assignment;
                    Interlocked.Exchange(ref _lastActivityTicks, Environment.TickCount64);
                    return 0;
                }
            }
            // No partition assigned (a cluster node while the group gives every partition to others, e.g. until a killed
            // member's session expires and its partitions move): nothing to read is not an input that ran dry. Such a node
            // stopped by --stop-after-idle before the killed node's partitions reached it (seen in LocalClusterTests).
            if (_control.Task.IsCompletedSuccessfully && _control.Task.Result.Assignment.Count == 0)
            {
                Interlocked.Exchange(ref _lastActivityTicks, Environment.TickCount64);
                return 0;
            }
            // No broker reachable: no record can arrive, which is an outage (streamdetect.kafka.unavailable-timeout), not idleness.
            if (_control.Task.IsCompletedSuccessfully && _control.Task.Result.BrokersUnreachable)
            {
                Interlocked.Exchange(ref _lastActivityTicks, Environment.TickCount64);
                return 0;
            }
            // Idle only when a broker confirmed it lately: an outage librdkafka does not report is found by the consumer's
            // probe within seconds, and must not pass for idleness meanwhile.
            if (_control.Task.IsCompletedSuccessfully && !_control.Task.Result.BrokersConfirmedReachable) return 0;
            return Environment.TickCount64 - Interlocked.Read(ref _lastActivityTicks);
        }
    }

    /// <summary>Records the group never read because retention deleted them first (0 before the consumer started).</summary>
    public long LostToRetention => _control.Task.IsCompletedSuccessfully ? _control.Task.Result.RecordsLostToRetention : 0;

    /// <summary>Longest a group join is waited for before the idle time starts counting anyway.</summary>
    public static TimeSpan JoinGrace { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The valid events; the materialized task completes with the dead letters' counts.</summary>
    public Source<IngestedEvent, Task<DeadLetterSummary>> Events(ReadProgress progress)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var deadLettersDone = new TaskCompletionSource<DeadLetterSummary>(TaskCreationOptions.RunContinuationsAsynchronously);

        Sink<(DeadLetter, CommittableOffset), NotUsed> deadLetterPath = _deadLetterProducer is null
            ? Flow.Create<(DeadLetter, CommittableOffset)>().Select(x => x.Item2).To(_committer)
            : KafkaProducerFlow.DeadLetters<CommittableOffset>(_deadLetterProducer, _maxRawBytes).To(_committer);

        return KafkaConsumerSource.CommittableSource(_consumer)
            .MapMaterializedValue(control =>
            {
                _control.TrySetResult(control);
                return control;
            })
            .Select(record =>
            {
                Interlocked.Exchange(ref _lastActivityTicks, Environment.TickCount64);
                progress.AddRecord();
                progress.AddBytes(record.Raw.Length);
                return (Parsed: _decoder.Decode(record.Record), record.Offset);
            })
            .Via(Flow.Create<(ParsedRecord Parsed, CommittableOffset Offset)>()
                .DivertTo(
                    Flow.Create<(ParsedRecord Parsed, CommittableOffset Offset)>()
                        .Select(x =>
                        {
                            var letter = (DeadLetter)x.Parsed;
                            lock (counts) counts[letter.Rejection.Code] = counts.GetValueOrDefault(letter.Rejection.Code) + 1;
                            progress.AddDeadLetter(letter.Rejection.Code);
                            return (letter, x.Offset);
                        })
                        .To(deadLetterPath),
                    x => x.Parsed is DeadLetter))
            .Select(x => ((IngestedEvent)x.Parsed) with { Ack = x.Offset })
            .WatchTermination((_, done) =>
            {
                done.ContinueWith(_ =>
                {
                    lock (counts) deadLettersDone.TrySetResult(new DeadLetterSummary(counts.Values.Sum(), new Dictionary<string, long>(counts)));
                }, TaskScheduler.Default);
                return deadLettersDone.Task;
            });
    }

    /// <summary>The sink for persisted events' acknowledgements (their offsets).</summary>
    public Sink<object, Task> Acks() =>
        Flow.Create<object>().Select(ack => (CommittableOffset)ack).To(_committer).MapMaterializedValue(_ => Task.CompletedTask);

    /// <summary>
    /// Ends the run cleanly: stop consuming (the consumer stays for commits), let in-flight work finish
    /// (the caller awaits the pipeline), then <see cref="CompleteAsync"/>.
    /// </summary>
    public async Task StopAsync()
    {
        var control = await Control;
        await control.Stop();
    }

    /// <summary>After the pipeline finished: final commit, then close the consumer.</summary>
    public async Task CompleteAsync()
    {
        _committerSwitch.Shutdown();
        await Committed;
        var control = await Control;
        await control.Shutdown();
    }
}
