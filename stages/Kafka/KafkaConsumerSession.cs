using System.Diagnostics;
using Akka.Event;
using Error = Confluent.Kafka.Error;
using LogMessage = Confluent.Kafka.LogMessage;
using Confluent.Kafka;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// One Kafka consumer behind a source stage: a dedicated poll thread owns the Confluent consumer (every
/// call to it, commits and rebalance callbacks included, happens on that thread), fills a bounded
/// buffer the stage drains, and commits what <see cref="OffsetTracker"/> says is done. Its life is the
/// <see cref="KafkaConsumerStateMachine"/>; this class is the glue between that, the stage, the committer
/// and the poll thread's helpers (<see cref="KafkaPoller"/>, <see cref="OffsetCommitter"/>,
/// <see cref="KafkaRecordConverter"/>).
/// </summary>
/// <remarks>
/// Rebalancing. On assignment each partition gets a new epoch. On revocation the session (1) stops
/// emitting the partition and drops its buffered records, (2) waits up to the revoke-drain timeout for
/// the partition's records already downstream to be reported done, (3) commits the done prefix, and
/// (4) forgets the partition, so later completions for it are ignored. Commits only ever name
/// partitions the tracker holds, and the tracker holds only owned partitions, so this consumer never
/// commits an offset for a partition it no longer owns. Lost partitions (session timeout) are
/// forgotten without a commit.
/// Backpressure. When the buffer is full the poll thread waits for the stage to take records; if it stays
/// full a whole poll timeout the session is Paused: the assignment is paused and polled once a poll timeout,
/// so rebalances are still served while nothing is fetched. A downstream stalled longer than
/// max.poll.interval.ms makes the consumer leave the group, as with any Kafka consumer whose processing
/// stalls, and its records are replayed by another member.
/// </remarks>
internal sealed class KafkaConsumerSession : IKafkaControl
{
    /// <summary>
    /// How often the cluster is asked for metadata while no record proves a broker reachable: during an outage, to
    /// learn that one is back; while no record arrives, to learn of an outage that librdkafka did not report.
    /// </summary>
    private static readonly TimeSpan OutageProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a probe waits for a broker's answer before the brokers count as unreachable.</summary>
    private static readonly TimeSpan OutageProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the probe and the reads of committed offsets and log starts may take.</summary>
    private static readonly TimeSpan ClusterQueryTimeout = TimeSpan.FromSeconds(5);

    private readonly KafkaConsumerSettings _settings;
    private readonly bool _committable;
    private readonly object _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly KafkaRecordConverter _converter;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _gate.
    private readonly KafkaConsumerStateMachine _state;
    private readonly Queue<CommittableRecord> _buffer = new();
    private readonly OffsetTracker _tracker = new();
    private readonly Dictionary<TopicPartition, int> _owned = new();
    private List<TaskCompletionSource> _commitWaiters = [];
    private Action? _onAvailable;
    private Action? _onStopped;
    private Action<Exception>? _onFailed;
    private bool _stageWaiting;
    private int _epochs;
    private readonly BrokerOutage _outage;

    // Written by the poll thread, read by anyone.
    private long _lostToRetention;
    private IReadOnlyList<PartitionLag> _lag = [];

    /// <summary>How often the poll thread refreshes <see cref="Lag"/>.</summary>
    private static readonly TimeSpan LagInterval = TimeSpan.FromSeconds(1);

    /// <summary>While fetching is paused, how often the high watermarks are asked of the brokers (no fetch brings them), and how long each may take.</summary>
    private static readonly TimeSpan WatermarkQueryInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan WatermarkQueryTimeout = TimeSpan.FromSeconds(1);

    // librdkafka's threads and the poll thread.
    private readonly RepeatedLogFilter _logFilter;

    // Set by Start before the poll thread starts.
    private ILoggingAdapter _log = NoLogger.Instance;

    // Poll thread only (created with the consumer; rebalance callbacks run inside its calls).
    private KafkaPoller? _poller;
    // The epoch of a partition's current assignment, 0 when not owned (poll thread: rebalance callbacks write _owned on it).
    private readonly Func<TopicPartition, int> _epochOf;
    private OffsetCommitter? _committer;
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private readonly RetentionLossDetector _retention = new();
    private readonly Func<TopicPartition, long?> _logStart;
    private IAdminClient? _probe;
    private Task? _probing; // the probe in flight, off the poll thread
    private TimeSpan _lastProbe;
    private long _lastAnswerTicks; // _clock ticks when a broker last proved reachable (a record, a probe's answer); any thread
    private TimeSpan? _lastLag;
    private TimeSpan? _lastWatermarkQuery;
    private readonly Dictionary<TopicPartition, long> _committedOffsets = new();
    private readonly Dictionary<TopicPartition, long> _highWatermarks = new();

    public KafkaConsumerSession(KafkaConsumerSettings settings, bool committable)
    {
        _settings = settings;
        _committable = committable;
        _state = new KafkaConsumerStateMachine(settings.PollTimeout, settings.Faults);
        _converter = new KafkaRecordConverter(settings.SchemaHeader, settings.SchemaVersions);
        _outage = new BrokerOutage(settings.Faults.UnavailableTimeout);
        _logFilter = new RepeatedLogFilter(settings.Faults.LogRepeatInterval);
        _logStart = LogStart;
        _epochOf = partition => _owned.TryGetValue(partition, out int epoch) ? epoch : 0;
    }

    public long RecordsLostToRetention => Interlocked.Read(ref _lostToRetention);

    public bool BrokersUnreachable
    {
        get
        {
            lock (_gate) return _outage.Down;
        }
    }

    public bool BrokersConfirmedReachable =>
        !BrokersUnreachable && _clock.Elapsed - TimeSpan.FromTicks(Interlocked.Read(ref _lastAnswerTicks)) <= OutageProbeInterval + OutageProbeSlack;

    /// <summary>How late a healthy broker's answer to a probe may come before reachability counts as not confirmed.</summary>
    private static readonly TimeSpan OutageProbeSlack = TimeSpan.FromMilliseconds(500);

    public Task IsShutdown => _shutdown.Task;

    public IReadOnlyList<PartitionLag> Lag => Volatile.Read(ref _lag);

    public bool Joined
    {
        get
        {
            lock (_gate) return _state.Joined;
        }
    }

    public IReadOnlyList<TopicPartition> Assignment
    {
        get
        {
            lock (_gate) return _owned.Keys.ToArray();
        }
    }

    /// <summary>Starts the poll thread; the callbacks are the stage's async callbacks.</summary>
    public void Start(ILoggingAdapter log, Action onAvailable, Action onStopped, Action<Exception> onFailed)
    {
        lock (_gate)
        {
            _log = log;
            _onAvailable = onAvailable;
            _onStopped = onStopped;
            _onFailed = onFailed;
            if (_state.Start())
            {
                new Thread(Run) { IsBackground = true, Name = $"kafka-consumer-{_settings.GroupId}" }.Start();
                return;
            }
        }
        onStopped(); // stopped or shut down before the stage started: no consumer, the stage completes
    }

    /// <summary>Takes the next record to emit (stage thread); registers it as in flight.</summary>
    public bool TryTake(out CommittableRecord record)
    {
        lock (_gate)
        {
            while (_state.Emitting && _buffer.TryDequeue(out var next))
            {
                // Half empty: wake a poll thread waiting for room (it resumes fetching).
                if (_buffer.Count == _settings.BufferSize / 2) Monitor.PulseAll(_gate);
                var offset = next.Offset;
                if (!_owned.TryGetValue(offset.TopicPartition, out int epoch) || epoch != offset.Epoch) continue;
                if (_committable) _tracker.Register(offset.TopicPartition, offset.Epoch, offset.Offset);
                record = next;
                return true;
            }
            _stageWaiting = _state.Emitting;
            record = null!;
            return false;
        }
    }

    /// <summary>Marks a record processed (committer thread). Stale handles are ignored.</summary>
    public void MarkDone(CommittableOffset offset)
    {
        lock (_gate)
        {
            if (_tracker.Complete(offset.TopicPartition, offset.Epoch, offset.Offset) && _state.Revoking)
                Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Asks the poll thread to commit what is done; completes after the attempt.</summary>
    public Task RequestCommit()
    {
        lock (_gate)
        {
            if (!_state.RequestCommit()) return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _commitWaiters.Add(waiter);
            Monitor.PulseAll(_gate);
            return waiter.Task;
        }
    }

    public Task Stop()
    {
        Action? onStopped;
        lock (_gate)
        {
            if (!_state.Stop()) return Task.CompletedTask;
            _buffer.Clear();
            _stageWaiting = false;
            onStopped = _onStopped;
            Monitor.PulseAll(_gate);
        }
        onStopped?.Invoke();
        return Task.CompletedTask;
    }

    public Task Shutdown()
    {
        Action? onStopped = null;
        lock (_gate)
        {
            if (_state.Shutdown())
            {
                _buffer.Clear();
                _stageWaiting = false;
                Monitor.PulseAll(_gate);
                if (_state.State == KafkaConsumerState.Closed)
                {
                    // No consumer was ever started: nothing to close.
                    onStopped = _onStopped;
                    _shutdown.TrySetResult();
                }
            }
        }
        onStopped?.Invoke();
        return _shutdown.Task;
    }

    /// <summary>The stage stopped; unless that was <see cref="Stop"/>, the consumer goes too.</summary>
    public void OnStageStopped()
    {
        bool shutdown;
        lock (_gate)
        {
            _onAvailable = null;
            _onStopped = null;
            _onFailed = null;
            shutdown = _state.State is not (KafkaConsumerState.Stopped or KafkaConsumerState.Draining);
        }
        if (shutdown) Shutdown();
    }

    public async Task DrainAndShutdown(Task streamCompletion)
    {
        await Stop().ConfigureAwait(false);
        try
        {
            await streamCompletion.ConfigureAwait(false);
        }
        finally
        {
            await Shutdown().ConfigureAwait(false);
        }
    }

    public async Task<T> DrainAndShutdown<T>(Task<T> streamCompletion)
    {
        await Stop().ConfigureAwait(false);
        try
        {
            return await streamCompletion.ConfigureAwait(false);
        }
        finally
        {
            await Shutdown().ConfigureAwait(false);
        }
    }

    private void Run()
    {
        IConsumer<byte[]?, byte[]?>? consumer = null;
        Exception? failure = null;
        try
        {
            consumer = new ConsumerBuilder<byte[]?, byte[]?>(_settings.ToConsumerConfig(autoCommit: !_committable))
                .SetPartitionsAssignedHandler(OnAssigned)
                .SetPartitionsRevokedHandler(OnRevoked)
                .SetPartitionsLostHandler(OnLost)
                .SetErrorHandler(OnError)
                .SetLogHandler(OnLog)
                .Build();
            _consumer = consumer;
            _poller = new KafkaPoller(consumer, _log, _settings.GroupId, _logFilter);
            _committer = new OffsetCommitter(consumer, _log, _settings.GroupId);
            consumer.Subscribe(_settings.Topics);
            _log.Info("Kafka consumer started: {0}", _settings);
            PollUntilShutdown();
            if (_committable) CommitFinal();
            consumer.Close();
        }
        catch (EnvironmentFailureException e)
        {
            // Its message is the one line the run ends with; no stack trace, nothing committed past it.
            failure = e;
        }
        catch (Exception e)
        {
            failure = e;
            _log.Error(e, "Kafka consumer {0} failed", _settings.GroupId);
        }
        finally
        {
            try
            {
                // The probe runs on the consumer's handle: it must end before the handle is destroyed.
                _probing?.Wait(OutageProbeTimeout + TimeSpan.FromSeconds(1));
                _probe?.Dispose();
                consumer?.Dispose();
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException)
            {
                _log.Warning("Kafka consumer dispose: {0}", e.Message);
            }
            Finish(failure);
        }
    }

    /// <summary>Carries out the state machine's steps until it says to close (poll thread).</summary>
    private void PollUntilShutdown()
    {
        while (true)
        {
            PollStep step;
            List<TaskCompletionSource>? waiters = null;
            int room;
            lock (_gate)
            {
                while ((step = _state.Next(_buffer.Count >= _settings.BufferSize, _clock.Elapsed)).Kind == PollStepKind.Wait)
                    Monitor.Wait(_gate, step.Timeout);
                if (step.Kind == PollStepKind.Commit) waiters = TakeCommitWaiters();
                if (step.Kind == PollStepKind.Fail) throw _state.Failure!;
                room = _settings.BufferSize - _buffer.Count;
            }
            switch (step.Kind)
            {
                case PollStepKind.Close:
                    return;
                case PollStepKind.Commit:
                    Commit(waiters!);
                    break;
                case PollStepKind.Poll:
                    _poller!.SetPaused(step.Paused);
                    Offer(_poller.Poll(step.Timeout, room, _epochOf));
                    break;
            }
            WatchOutage();
            MeasureLag();
        }
    }

    /// <summary>
    /// Refreshes <see cref="Lag"/> once a <see cref="LagInterval"/> from the committed offsets and the high
    /// watermarks librdkafka learnt from its last fetch (no broker call); while fetching is paused, no fetch
    /// brings them, so they are asked of the brokers once a <see cref="WatermarkQueryInterval"/> (poll thread).
    /// </summary>
    private void MeasureLag()
    {
        var now = _clock.Elapsed;
        if (_lastLag is TimeSpan last && now - last < LagInterval) return;
        _lastLag = now;
        bool down;
        lock (_gate) down = _outage.Down;
        bool query = _poller!.Paused && !down && (_lastWatermarkQuery is not TimeSpan asked || now - asked >= WatermarkQueryInterval);
        if (query) _lastWatermarkQuery = now;
        var lag = new List<PartitionLag>(_owned.Count);
        foreach (var partition in _owned.Keys)
        {
            try
            {
                long high = _consumer!.GetWatermarkOffsets(partition).High.Value;
                if (query)
                {
                    try
                    {
                        high = Math.Max(high, _consumer.QueryWatermarkOffsets(partition, WatermarkQueryTimeout).High.Value);
                    }
                    catch (KafkaException)
                    {
                        query = false; // the brokers are slow now: no more waiting on them in this round
                    }
                }
                // A watermark only grows: the highest known (fetched or asked) stands until a newer one.
                if (_highWatermarks.TryGetValue(partition, out long known)) high = Math.Max(high, known);
                if (high < 0) continue;
                _highWatermarks[partition] = high;
                long position = _committedOffsets.TryGetValue(partition, out long committed) ? committed : _consumer.Position(partition).Value;
                if (position < 0) continue;
                lag.Add(new PartitionLag(partition.Topic, partition.Partition.Value, Math.Max(0, high - position)));
            }
            catch (KafkaException)
            {
                // Not known now (the partition is being revoked): left out of this snapshot.
            }
        }
        Volatile.Write(ref _lag, lag);
    }

    /// <summary>
    /// Past streamdetect.kafka.unavailable-timeout of outage, fails the consumer (exit code 4) instead of retrying on.
    /// Otherwise, once a second while no broker proved reachable for a second (no record, no answer), asks the
    /// cluster for metadata off the poll thread: an answer ends an outage (an idle consumer gets no record to tell
    /// it), no answer within <see cref="OutageProbeTimeout"/> starts one. librdkafka's "all brokers down" error starts
    /// one too, but it is not raised for every outage (e.g. when the consumer's connections were already idle), and
    /// an outage nobody notices would pass for idleness (--stop-after-idle) and leave /health/ready green (poll thread).
    /// </summary>
    private void WatchOutage()
    {
        var now = _clock.Elapsed;
        bool down;
        lock (_gate)
        {
            down = _outage.Down;
            if (down && _outage.Exceeded(now))
            {
                _state.Fail(new EnvironmentFailureException(FailedResource.Broker,
                    $"kafka: no broker at {_settings.BootstrapServers} reachable for {_settings.Faults.UnavailableTimeout.TotalSeconds:0.#} s " +
                    $"({KafkaClientProperties.SharedPath}.unavailable-timeout); the run stops, a rerun resumes from the last commit"));
                return;
            }
        }
        if (_probing is { IsCompleted: false } || now - _lastProbe < OutageProbeInterval) return;
        if (!down && now - TimeSpan.FromTicks(Interlocked.Read(ref _lastAnswerTicks)) < OutageProbeInterval) return;
        _lastProbe = now;
        var probe = _probe ??= new DependentAdminClientBuilder(_consumer!.Handle).Build();
        string topic = _settings.Topics[0];
        _probing = Task.Run(() =>
        {
            try
            {
                probe.GetMetadata(topic, OutageProbeTimeout);
                BrokerAnswered();
            }
            catch (KafkaException)
            {
                // No broker answered: an outage from when the probe was sent (librdkafka keeps reconnecting meanwhile).
                lock (_gate) _outage.AllBrokersDown(now);
            }
        });
    }

    private void BrokerAnswered()
    {
        TimeSpan? lasted;
        var now = _clock.Elapsed;
        Interlocked.Exchange(ref _lastAnswerTicks, now.Ticks);
        lock (_gate) lasted = _outage.BrokerAnswered(now);
        if (lasted is TimeSpan outage)
            _log.Warning("Kafka consumer {0}: brokers reachable again after {1:0.#} s", _settings.GroupId, outage.TotalSeconds);
    }

    /// <summary>Converts polled records and appends them to the buffer (poll thread).</summary>
    private void Offer(IReadOnlyList<KafkaPoller.Polled> batch)
    {
        if (batch.Count == 0) return;
        // Assignment changes only on this thread (rebalance callbacks run inside Consume), so reading
        // _owned here is safe; writes to it are locked for the stage thread's sake.
        BrokerAnswered();
        var records = new List<CommittableRecord>(batch.Count);
        foreach (var (result, epoch) in batch)
        {
            // Consumed under an assignment since revoked (and maybe assigned again: then fetched again from its commit).
            if (!_owned.TryGetValue(result.TopicPartition, out int current) || current != epoch) continue;
            if (_retention.Observe(result.TopicPartition, result.Offset.Value, _logStart) is { } gap && !LostToRetention(gap)) return;
            records.Add(_converter.Convert(result, this, epoch));
        }
        Action? notify = null;
        lock (_gate)
        {
            if (!_state.Emitting) return;
            foreach (var record in records) _buffer.Enqueue(record);
            if (_stageWaiting && _buffer.Count > 0)
            {
                _stageWaiting = false;
                notify = _onAvailable;
            }
        }
        notify?.Invoke();
    }

    /// <summary>Counts and logs a loss; under on-retention-loss = fail, fails the consumer instead and returns false (poll thread).</summary>
    private bool LostToRetention(RetentionGap gap)
    {
        if (_settings.Faults.OnRetentionLoss == RetentionLossPolicy.Fail)
        {
            lock (_gate)
            {
                _state.Fail(new EnvironmentFailureException(FailedResource.Broker,
                    $"kafka: {gap} ({KafkaClientProperties.SharedPath}.on-retention-loss = fail)"));
                _buffer.Clear();
            }
            return false;
        }
        Interlocked.Add(ref _lostToRetention, gap.Count);
        _log.Warning("Kafka consumer {0}: {1}; reading on from offset {2:N0}", _settings.GroupId, gap, gap.From + gap.Count);
        return true;
    }

    /// <summary>The partition's log start: librdkafka's figure from the last fetch, else asked of the broker; null when unknown (poll thread).</summary>
    private long? LogStart(TopicPartition partition)
    {
        try
        {
            var cached = _consumer!.GetWatermarkOffsets(partition);
            if (cached.Low.Value >= 0) return cached.Low.Value;
            var queried = _consumer.QueryWatermarkOffsets(partition, ClusterQueryTimeout);
            return queried.Low.Value >= 0 ? queried.Low.Value : null;
        }
        catch (KafkaException e)
        {
            _log.Warning("Kafka consumer {0}: could not read the log start of {1} ({2}); a loss to retention there is not counted", _settings.GroupId, partition, e.Error.Reason);
            return null;
        }
    }

    /// <summary>
    /// Where the group should read each newly assigned partition next: its committed offset, or 0 for a group
    /// without a commit that starts at the earliest record (a partition's first offset is 0); unknown otherwise.
    /// </summary>
    private void ExpectCommitted(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        List<TopicPartitionOffset> committed;
        try
        {
            committed = consumer.Committed(partitions, ClusterQueryTimeout);
        }
        catch (KafkaException e)
        {
            _log.Warning("Kafka consumer {0}: could not read the committed offsets of {1} ({2}); losses to retention are counted from the first record read",
                _settings.GroupId, string.Join(", ", partitions), e.Error.Reason);
            foreach (var partition in partitions) _retention.Assign(partition, null);
            return;
        }
        foreach (var offset in committed)
        {
            if (offset.Offset.Value >= 0) _committedOffsets[offset.TopicPartition] = offset.Offset.Value;
            long? expected = offset.Offset.Value >= 0 ? offset.Offset.Value : _settings.StartsAtEarliest ? 0 : null;
            _retention.Assign(offset.TopicPartition, expected);
        }
    }

    private void OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        if (partitions.Count > 0) ExpectCommitted(consumer, partitions);
        lock (_gate)
        {
            foreach (var partition in partitions)
            {
                int epoch = ++_epochs;
                _owned[partition] = epoch;
                if (_committable) _tracker.Assign(partition, epoch);
            }
            _state.Assigned();
        }
        _poller!.AssignmentChanged();
        _log.Info("Kafka consumer {0} assigned {1}", _settings.GroupId, string.Join(", ", partitions));
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> revoked)
    {
        var partitions = revoked.Select(p => p.TopicPartition).ToList();
        bool drain;
        lock (_gate)
        {
            Forget(partitions);
            drain = _state.BeginRevocation() && _committable && _settings.RevokeDrainTimeout > TimeSpan.Zero;
        }
        try
        {
            if (!_committable) return;
            if (drain) WaitForDrain(partitions);
            if (!CommitDone(partitions, " on revocation"))
                _log.Warning("Kafka consumer {0}: the next owner of {1} replays from their last commit", _settings.GroupId, string.Join(", ", partitions));
        }
        finally
        {
            lock (_gate)
            {
                foreach (var partition in partitions) _tracker.Remove(partition);
                _state.EndRevocation();
            }
            _log.Info("Kafka consumer {0} revoked {1}", _settings.GroupId, string.Join(", ", partitions));
        }
    }

    private void OnLost(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> lost)
    {
        var partitions = lost.Select(p => p.TopicPartition).ToList();
        lock (_gate)
        {
            Forget(partitions);
            foreach (var partition in partitions) _tracker.Remove(partition);
        }
        _log.Warning("Kafka consumer {0} lost {1} (not committed; records will be replayed)", _settings.GroupId, string.Join(", ", partitions));
    }

    /// <summary>Stops emitting the partitions and drops their buffered records (poll thread, under the lock).</summary>
    private void Forget(List<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _owned.Remove(partition);
            _retention.Remove(partition);
            _committedOffsets.Remove(partition);
            _highWatermarks.Remove(partition);
        }
        _poller!.AssignmentChanged();
        if (_buffer.Count == 0) return;
        var keep = _buffer.Where(r => _owned.ContainsKey(r.Offset.TopicPartition)).ToArray();
        _buffer.Clear();
        foreach (var record in keep) _buffer.Enqueue(record);
    }

    /// <summary>Waits until the revoked partitions' records in flight are done, the drain timeout passes, or the consumer is leaving.</summary>
    private void WaitForDrain(List<TopicPartition> partitions)
    {
        var deadline = _clock.Elapsed + _settings.RevokeDrainTimeout;
        lock (_gate)
        {
            while (partitions.Any(p => _tracker.Outstanding(p) > 0))
            {
                var left = deadline - _clock.Elapsed;
                if (left <= TimeSpan.Zero || _state.IsLeaving)
                {
                    _log.Warning("Kafka consumer {0}: {1} records of revoked partitions still in flight after {2}; they will be replayed by the next owner",
                        _settings.GroupId, partitions.Sum(_tracker.Outstanding), _settings.RevokeDrainTimeout);
                    return;
                }
                Monitor.Wait(_gate, left);
            }
        }
    }

    /// <summary>A requested (or retried) commit of everything done; a refused one is retried later (poll thread).</summary>
    private void Commit(List<TaskCompletionSource> waiters)
    {
        try
        {
            // A commit blocks until the coordinator answers (up to the group session timeout); while no
            // broker is reachable it waits for the outage to end instead, so the outage limit is kept.
            bool down;
            lock (_gate) down = _outage.Down;
            if (_committable && down)
            {
                lock (_gate) _state.CommitFailed(_clock.Elapsed);
                return;
            }
            if (!_committable) return;
            bool accepted = CommitDone(null, "");
            lock (_gate)
            {
                if (accepted) _state.CommitSucceeded();
                else _state.CommitFailed(_clock.Elapsed);
            }
        }
        finally
        {
            foreach (var waiter in waiters) waiter.TrySetResult();
        }
    }

    /// <summary>
    /// The last commit before closing: while the coordinator refuses it (a rebalance in progress, a coordinator moving,
    /// a timeout, no broker) it is retried with backoff for up to streamdetect.kafka.final-commit-timeout, fetching
    /// paused and the group served between tries; past that the next owner replays from the last accepted commit.
    /// </summary>
    private void CommitFinal()
    {
        List<TaskCompletionSource> waiters;
        lock (_gate) waiters = TakeCommitWaiters();
        try
        {
            var deadline = _clock.Elapsed + _settings.Faults.FinalCommitTimeout;
            _poller!.SetPaused(true); // a poll between tries serves the group and waits; it fetches nothing
            for (int failures = 1; !CommitDone(null, " on close"); failures++)
            {
                var left = deadline - _clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    _log.Warning("Kafka consumer {0}: the last commit was refused for {1:0.#} s ({2}.final-commit-timeout); the next start replays the records since the last accepted commit",
                        _settings.GroupId, _settings.Faults.FinalCommitTimeout.TotalSeconds, KafkaClientProperties.SharedPath);
                    break;
                }
                var wait = _settings.Faults.RetryDelay(failures);
                _poller.Poll(wait < left ? wait : left, room: 1, static _ => 0); // a record it returns (none while paused) is not emitted
            }
        }
        finally
        {
            foreach (var waiter in waiters) waiter.TrySetResult();
        }
    }

    /// <summary>Commits what the tracker says is done (in <paramref name="only"/>, or everywhere) and records what was accepted. False when anything was refused.</summary>
    private bool CommitDone(List<TopicPartition>? only, string when)
    {
        List<TopicPartitionOffset> offsets;
        lock (_gate) offsets = _tracker.PendingCommits(only);
        long start = Stopwatch.GetTimestamp();
        bool all = _committer!.TryCommit(offsets, when, out var accepted);
        if (offsets.Count > 0)
            KafkaConsumerInstruments.CommitDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds, new KeyValuePair<string, object?>("group", _settings.GroupId));
        foreach (var offset in accepted) _committedOffsets[offset.TopicPartition] = offset.Offset.Value;
        lock (_gate) _tracker.Committed(accepted);
        return all;
    }

    private List<TaskCompletionSource> TakeCommitWaiters()
    {
        var waiters = _commitWaiters;
        _commitWaiters = [];
        return waiters;
    }

    private void OnError(IConsumer<byte[]?, byte[]?> consumer, Error error)
    {
        if (error.IsFatal)
        {
            lock (_gate)
            {
                _state.Fail(new EnvironmentFailureException(FailedResource.Broker,
                    $"kafka: consumer {_settings.GroupId} at {_settings.BootstrapServers} failed: {error.Reason} ({error.Code})", new KafkaException(error)));
            }
            return;
        }
        if (error.Code == ErrorCode.Local_AllBrokersDown)
        {
            lock (_gate) _outage.AllBrokersDown(_clock.Elapsed);
        }
        if (_logFilter.ShouldLog(error.Reason, _clock.Elapsed, out long heldBack))
            _log.Warning("Kafka consumer {0}: {1}{2}", _settings.GroupId, error.Reason, RepeatedLogFilter.Note(heldBack));
    }

    private void OnLog(IConsumer<byte[]?, byte[]?> consumer, LogMessage message)
    {
        if (message.Level > SyslogLevel.Warning)
        {
            if (_log.IsDebugEnabled) _log.Debug("librdkafka {0}: {1}", message.Facility, message.Message);
            return;
        }
        if (!_logFilter.ShouldLog(message.Message, _clock.Elapsed, out long heldBack)) return;
        if (message.Level <= SyslogLevel.Error) _log.Error("librdkafka {0}: {1}{2}", message.Facility, message.Message, RepeatedLogFilter.Note(heldBack));
        else _log.Warning("librdkafka {0}: {1}{2}", message.Facility, message.Message, RepeatedLogFilter.Note(heldBack));
    }

    private void Finish(Exception? failure)
    {
        List<TaskCompletionSource> waiters;
        Action? onStopped;
        Action<Exception>? onFailed;
        lock (_gate)
        {
            _state.ConsumerClosed();
            _buffer.Clear();
            _owned.Clear();
            _lag = [];
            waiters = TakeCommitWaiters();
            onStopped = _onStopped;
            onFailed = _onFailed;
        }
        foreach (var waiter in waiters) waiter.TrySetResult();
        if (failure is not null) onFailed?.Invoke(failure);
        else onStopped?.Invoke();
        if (failure is not null) _shutdown.TrySetException(failure);
        else _shutdown.TrySetResult();
    }
}
