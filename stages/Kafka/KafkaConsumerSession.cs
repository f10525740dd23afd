using Akka.Event;
using Error = Confluent.Kafka.Error;
using LogMessage = Confluent.Kafka.LogMessage;
using Confluent.Kafka;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Kafka;

/// <summary>
/// One Kafka consumer behind a source stage: a dedicated poll thread owns the Confluent consumer (every
/// call to it, commits and rebalance callbacks included, happens on that thread), fills a bounded
/// buffer the stage drains, and commits what <see cref="OffsetTracker"/> says is done.
/// </summary>
/// <remarks>
/// Rebalancing. On assignment each partition gets a new epoch. On revocation the session (1) stops
/// emitting the partition and drops its buffered records, (2) waits up to the revoke-drain timeout for
/// the partition's records already downstream to be reported done, (3) commits the done prefix, and
/// (4) forgets the partition, so later completions for it are ignored. Commits only ever name
/// partitions the tracker holds, and the tracker holds only owned partitions, so this consumer never
/// commits an offset for a partition it no longer owns. Lost partitions (session timeout) are
/// forgotten without a commit.
/// Backpressure. When the buffer is full the poll thread stops polling until the stage takes records;
/// a downstream stalled longer than max.poll.interval.ms makes the consumer leave the group, as with
/// any Kafka consumer whose processing stalls, and its records are replayed by another member.
/// </remarks>
internal sealed class KafkaConsumerSession : IKafkaControl
{
    private static readonly TimeSpan CommitRetryDelay = TimeSpan.FromSeconds(1);

    private readonly KafkaConsumerSettings _settings;
    private readonly bool _committable;
    private readonly object _gate = new();
    private readonly Queue<CommittableRecord> _buffer = new();
    private readonly OffsetTracker _tracker = new();
    private readonly Dictionary<TopicPartition, int> _owned = new();
    private readonly KafkaRecordConverter _converter;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private List<TaskCompletionSource> _commitWaiters = [];
    private Action? _onAvailable;
    private Action? _onStopped;
    private Action<Exception>? _onFailed;
    private ILoggingAdapter _log = NoLogger.Instance;
    private Thread? _thread;
    private Exception? _fatal;
    private int _epochs;
    private int _revoking;
    private bool _started;
    private bool _stageWaiting;
    private bool _pollWaiting;
    private bool _stopped;
    private bool _shutdownRequested;
    private bool _closing;
    private bool _finished;
    private bool _commitRequested;
    private bool _joined;
    private DateTime _commitRetryDue = DateTime.MaxValue;

    // Poll thread only (created with the consumer; rebalance callbacks run inside its calls).
    private KafkaPoller? _poller;
    private OffsetCommitter? _committer;

    public KafkaConsumerSession(KafkaConsumerSettings settings, bool committable)
    {
        _settings = settings;
        _committable = committable;
        _converter = new KafkaRecordConverter(settings.SchemaHeader, settings.SchemaVersions);
    }

    public Task IsShutdown => _shutdown.Task;

    public bool Joined => Volatile.Read(ref _joined);

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
            if (_stopped || _shutdownRequested)
            {
                _finished = _shutdownRequested;
                if (_shutdownRequested) _shutdown.TrySetResult();
                onStopped();
                return;
            }
            _started = true;
            _thread = new Thread(Run)
            {
                IsBackground = true,
                Name = $"kafka-consumer-{_settings.GroupId}",
            };
            _thread.Start();
        }
    }

    /// <summary>Takes the next record to emit (stage thread); registers it as in flight.</summary>
    public bool TryTake(out CommittableRecord record)
    {
        lock (_gate)
        {
            while (!_stopped && _buffer.TryDequeue(out var next))
            {
                if (_pollWaiting && _buffer.Count <= _settings.BufferSize / 2) Monitor.PulseAll(_gate);
                var offset = next.Offset;
                if (!_owned.TryGetValue(offset.TopicPartition, out int epoch) || epoch != offset.Epoch) continue;
                if (_committable) _tracker.Register(offset.TopicPartition, offset.Epoch, offset.Offset);
                record = next;
                return true;
            }
            _stageWaiting = !_stopped;
            record = null!;
            return false;
        }
    }

    /// <summary>Marks a record processed (committer thread). Stale handles are ignored.</summary>
    public void MarkDone(CommittableOffset offset)
    {
        lock (_gate)
        {
            if (_tracker.Complete(offset.TopicPartition, offset.Epoch, offset.Offset) && _revoking > 0)
                Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Asks the poll thread to commit what is done; completes after the attempt.</summary>
    public Task RequestCommit()
    {
        lock (_gate)
        {
            if (_finished || !_started) return Task.CompletedTask;
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _commitWaiters.Add(waiter);
            _commitRequested = true;
            if (_pollWaiting) Monitor.PulseAll(_gate);
            return waiter.Task;
        }
    }

    public Task Stop()
    {
        Action? onStopped;
        lock (_gate)
        {
            if (_stopped) return Task.CompletedTask;
            _stopped = true;
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
            if (!_shutdownRequested)
            {
                _shutdownRequested = true;
                Monitor.PulseAll(_gate);
                if (!_started)
                {
                    // Never started (or started after this): nothing to close.
                    _stopped = true;
                    _finished = true;
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
            shutdown = !_stopped;
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
            _poller = new KafkaPoller(consumer, _log, _settings.GroupId);
            _committer = new OffsetCommitter(consumer, _log, _settings.GroupId);
            consumer.Subscribe(_settings.Topics);
            _log.Info("Kafka consumer started: {0}", _settings);
            PollUntilShutdown(consumer);
            if (_committable) CommitFinal(consumer);
            lock (_gate) _closing = true;
            consumer.Close();
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
                consumer?.Dispose();
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException)
            {
                _log.Warning("Kafka consumer dispose: {0}", e.Message);
            }
            Finish(failure);
        }
    }

    private void PollUntilShutdown(IConsumer<byte[]?, byte[]?> consumer)
    {
        while (true)
        {
            bool commit, stopped, full;
            int room;
            lock (_gate)
            {
                // Buffer full: wait for the stage to take records. If it stays full a whole poll timeout
                // (slow or stalled downstream), poll anyway with the partitions paused, so rebalances and
                // the group session are still served while nothing more is fetched.
                full = false;
                while (!_shutdownRequested && !_commitRequested && !_stopped && _buffer.Count >= _settings.BufferSize)
                {
                    _pollWaiting = true;
                    if (!Monitor.Wait(_gate, _settings.PollTimeout) && _buffer.Count >= _settings.BufferSize)
                    {
                        full = true;
                        break;
                    }
                }
                // Stopped (draining): nothing is fetched, but the group is still served each poll timeout
                // until shutdown or a commit request wakes this thread; without the wait it would spin.
                if (_stopped && !_shutdownRequested && !_commitRequested)
                {
                    _pollWaiting = true;
                    Monitor.Wait(_gate, _settings.PollTimeout);
                }
                _pollWaiting = false;
                if (_shutdownRequested) return;
                if (_fatal is not null) throw _fatal;
                commit = _commitRequested || DateTime.UtcNow >= _commitRetryDue;
                stopped = _stopped;
                room = Math.Max(1, _settings.BufferSize - _buffer.Count);
            }
            if (commit && _committable) CommitNow(consumer);
            else if (commit) CompleteCommitWaiters();
            _poller!.SetPaused(stopped || full);
            var batch = _poller.Poll(stopped || full ? TimeSpan.Zero : _settings.PollTimeout, room);
            if (batch.Count > 0) Offer(batch);
        }
    }

    /// <summary>Converts polled records and appends them to the buffer (poll thread).</summary>
    private void Offer(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        // Assignment changes only on this thread (rebalance callbacks run inside Consume), so reading
        // _owned here is safe; writes to it are locked for the stage thread's sake.
        var records = new List<CommittableRecord>(batch.Count);
        foreach (var result in batch)
        {
            if (_owned.TryGetValue(result.TopicPartition, out int epoch))
                records.Add(_converter.Convert(result, this, epoch));
        }
        Action? notify = null;
        lock (_gate)
        {
            if (_stopped) return;
            foreach (var record in records) _buffer.Enqueue(record);
            if (_stageWaiting && _buffer.Count > 0)
            {
                _stageWaiting = false;
                notify = _onAvailable;
            }
        }
        notify?.Invoke();
    }

    private void OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> partitions)
    {
        lock (_gate)
        {
            foreach (var partition in partitions)
            {
                int epoch = ++_epochs;
                _owned[partition] = epoch;
                if (_committable) _tracker.Assign(partition, epoch);
            }
        }
        _poller?.AssignmentChanged();
        Volatile.Write(ref _joined, true);
        _log.Info("Kafka consumer {0} assigned {1}", _settings.GroupId, string.Join(", ", partitions));
    }

    private void OnRevoked(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> revoked)
    {
        var partitions = revoked.Select(p => p.TopicPartition).ToList();
        bool drain;
        lock (_gate)
        {
            Forget(partitions);
            _revoking++;
            drain = _committable && !_closing && _settings.RevokeDrainTimeout > TimeSpan.Zero;
        }
        try
        {
            if (!_committable) return;
            if (drain) WaitForDrain(partitions);
            List<TopicPartitionOffset> offsets;
            lock (_gate) offsets = _tracker.PendingCommits(partitions);
            if (offsets.Count > 0 && !TryCommit(consumer, offsets, " on revocation"))
                _log.Warning("Kafka consumer {0}: the next owner of {1} replays from their last commit", _settings.GroupId, string.Join(", ", partitions));
        }
        finally
        {
            lock (_gate)
            {
                foreach (var partition in partitions) _tracker.Remove(partition);
                _revoking--;
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

    /// <summary>Stops emitting the partitions and drops their buffered records (under the lock).</summary>
    private void Forget(List<TopicPartition> partitions)
    {
        foreach (var partition in partitions) _owned.Remove(partition);
        _poller?.AssignmentChanged();
        if (_buffer.Count == 0) return;
        var keep = _buffer.Where(r => _owned.ContainsKey(r.Offset.TopicPartition)).ToArray();
        _buffer.Clear();
        foreach (var record in keep) _buffer.Enqueue(record);
    }

    private void WaitForDrain(List<TopicPartition> partitions)
    {
        var deadline = DateTime.UtcNow + _settings.RevokeDrainTimeout;
        lock (_gate)
        {
            while (partitions.Any(p => _tracker.Outstanding(p) > 0))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || _shutdownRequested)
                {
                    _log.Warning("Kafka consumer {0}: {1} records of revoked partitions still in flight after {2}; they will be replayed by the next owner",
                        _settings.GroupId, partitions.Sum(_tracker.Outstanding), _settings.RevokeDrainTimeout);
                    return;
                }
                Monitor.Wait(_gate, left);
            }
        }
    }

    private void CommitNow(IConsumer<byte[]?, byte[]?> consumer)
    {
        List<TaskCompletionSource> waiters;
        List<TopicPartitionOffset> offsets;
        lock (_gate)
        {
            waiters = _commitWaiters;
            _commitWaiters = [];
            _commitRequested = false;
            _commitRetryDue = DateTime.MaxValue;
            offsets = _tracker.PendingCommits();
        }
        try
        {
            if (offsets.Count > 0 && !TryCommit(consumer, offsets, ""))
            {
                lock (_gate) _commitRetryDue = DateTime.UtcNow + CommitRetryDelay;
            }
        }
        finally
        {
            foreach (var waiter in waiters) waiter.TrySetResult();
        }
    }

    /// <summary>The last commit before closing: retried briefly (a rebalance in progress rejects it).</summary>
    private void CommitFinal(IConsumer<byte[]?, byte[]?> consumer)
    {
        for (int attempt = 0; ; attempt++)
        {
            CommitNow(consumer);
            bool failed;
            lock (_gate) failed = _commitRetryDue != DateTime.MaxValue;
            if (!failed || attempt == 4) return;
            consumer.Consume(TimeSpan.FromMilliseconds(100)); // serves a pending rebalance
        }
    }

    private void CompleteCommitWaiters()
    {
        List<TaskCompletionSource> waiters;
        lock (_gate)
        {
            waiters = _commitWaiters;
            _commitWaiters = [];
            _commitRequested = false;
        }
        foreach (var waiter in waiters) waiter.TrySetResult();
    }

    /// <summary>Commits synchronously (poll thread); records what succeeded. False when anything failed.</summary>
    private bool TryCommit(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartitionOffset> offsets, string when)
    {
        bool all = _committer!.TryCommit(offsets, when, out var accepted);
        lock (_gate) _tracker.Committed(accepted);
        return all;
    }

    private void OnError(IConsumer<byte[]?, byte[]?> consumer, Error error)
    {
        if (error.IsFatal)
        {
            lock (_gate) _fatal ??= new KafkaException(error);
            return;
        }
        _log.Warning("Kafka consumer {0}: {1}", _settings.GroupId, error.Reason);
    }

    private void OnLog(IConsumer<byte[]?, byte[]?> consumer, LogMessage message)
    {
        if (message.Level <= SyslogLevel.Error) _log.Error("librdkafka {0}: {1}", message.Facility, message.Message);
        else if (message.Level == SyslogLevel.Warning) _log.Warning("librdkafka {0}: {1}", message.Facility, message.Message);
        else if (_log.IsDebugEnabled) _log.Debug("librdkafka {0}: {1}", message.Facility, message.Message);
    }

    private void Finish(Exception? failure)
    {
        List<TaskCompletionSource> waiters;
        Action? onStopped;
        Action<Exception>? onFailed;
        lock (_gate)
        {
            _finished = true;
            _stopped = true;
            _buffer.Clear();
            _owned.Clear();
            waiters = _commitWaiters;
            _commitWaiters = [];
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
