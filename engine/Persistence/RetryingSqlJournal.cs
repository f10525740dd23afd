using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;
using StreamDetect.Stages.Failures;

namespace StreamDetect.Engine.Persistence;

/// <summary>
/// Akka.Persistence.Sql's journal, with writes that survive a store outage: a write the store refused or
/// lost is retried with backoff (<see cref="StoreRetrySettings"/>) until it succeeds or has failed for
/// <c>give-up-after</c>; then it fails with an <see cref="EnvironmentFailureException"/> that names the
/// store and the cause, and the partition that wrote it fails its waiting asks with it (exit code 3).
/// <para>
/// A failed attempt may still have been committed (the connection was lost during the commit), so before
/// writing again the journal reads the rows back: all there, the write succeeded; none, it is written
/// again (same sequence numbers, so a late commit of the earlier attempt makes the new one fail on the
/// journal's unique key rather than duplicate a row, and the next check finds the rows). The rows of one
/// write go in one transaction, so a partial write is not possible; it is reported as a failure.
/// A persistent actor sends its next write only after the previous one completed, so a partition's rows
/// stay in sequence-number order however long a retry takes.
/// </para>
/// <para>
/// The retries run inside the plugin's circuit breaker: its <c>call-timeout</c> bounds a write with all
/// its retries and must exceed <c>give-up-after</c> (<see cref="StoreSettings"/> checks it).
/// </para>
/// </summary>
public sealed class RetryingSqlJournal : SqlWriteJournal
{
    private readonly StoreRetrySettings _retry;
    private readonly string _store;
    private readonly string _provider, _connectionString;
    private readonly ILoggingAdapter _log;
    private readonly IScheduler _scheduler;
    private long _lastWarning;

    public RetryingSqlJournal(Config journalConfig) : base(journalConfig)
    {
        _retry = StoreRetrySettings.FromPlugin(journalConfig);
        _provider = journalConfig.GetString("provider-name", "");
        _connectionString = journalConfig.GetString("connection-string", "");
        _store = StoreDescription.Of(_provider, _connectionString);
        _log = Context.GetLogger();
        _scheduler = Context.System.Scheduler;
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var write = new PendingWrite(messages.ToList(), cancellationToken);
        Attempt(write);
        return write.Done.Task;
    }

    /// <summary>
    /// A partition's recovery replays its rows: retried through an outage, resuming after the last row
    /// delivered (a row is never delivered twice). Off the journal's thread, as the plugin allows.
    /// </summary>
    public override Task ReplayMessagesAsync(IActorContext context, string persistenceId, long fromSequenceNr, long toSequenceNr, long max,
        Action<IPersistentRepresentation> recoveryCallback)
    {
        long next = fromSequenceNr, delivered = 0;
        return StoreRetry.RunAsync(_retry, _store, "journal replay", _log, () =>
            delivered >= max || next > toSequenceNr
                ? Task.CompletedTask
                : base.ReplayMessagesAsync(context, persistenceId, next, toSequenceNr, max - delivered, row =>
                {
                    recoveryCallback(row);
                    next = row.SequenceNr + 1;
                    delivered++;
                }),
            CancellationToken.None, () => StoreConnectionPool.Clear(_provider, _connectionString));
    }

    /// <summary>Recovery starts by reading the highest sequence number: retried through an outage, each attempt on the journal's thread.</summary>
    public override Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        var read = new PendingRead(persistenceId, fromSequenceNr, cancellationToken);
        AttemptRead(read);
        return read.Done.Task;
    }

    private void AttemptRead(PendingRead read)
    {
        read.Attempts++;
        Task<long> attempt;
        try
        {
            attempt = base.ReadHighestSequenceNrAsync(read.PersistenceId, read.FromSequenceNr, read.Cancellation);
        }
        catch (Exception e)
        {
            attempt = Task.FromException<long>(e);
        }
        var self = Self;
        attempt.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                read.Done.TrySetResult(t.Result);
                return;
            }
            var cause = Cause(t);
            if (read.Cancellation.IsCancellationRequested || read.Clock.Elapsed >= _retry.GiveUpAfter)
            {
                read.Done.TrySetException(StoreRetry.GaveUp(_store, "journal read", read.Clock.Elapsed, read.Attempts, cause));
                return;
            }
            StoreConnectionPool.Clear(_provider, _connectionString);
            if (read.Attempts == 1) WarnRateLimited(cause);
            _scheduler.ScheduleTellOnce(_retry.Backoff(read.Attempts), self, new ReadAgain(read), ActorRefs.NoSender);
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>
    /// Deleting rows a snapshot covers is idempotent: retried as it is, off the journal's thread. A delete the
    /// plugin cancels (the end-of-run snapshots' deletes race the engine's shutdown: three warnings after the report
    /// of a default run) is left for the next snapshot's delete, which removes every row up to it: the rows are
    /// covered by the snapshot, so recovery never reads them.
    /// </summary>
    protected override Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken) =>
        StoreRetry.RunAsync(_retry, _store, "journal delete", _log, async () =>
        {
            try
            {
                await base.DeleteMessagesToAsync(persistenceId, toSequenceNr, cancellationToken);
            }
            catch (Exception e) when (IsCancellation(e) && !cancellationToken.IsCancellationRequested)
            {
                _log.Debug("journal delete up to {0} canceled by the plugin (the engine is stopping?): left for the next snapshot's delete", toSequenceNr);
            }
        }, cancellationToken, () => StoreConnectionPool.Clear(_provider, _connectionString));

    /// <summary>A cancellation, however the plugin wrapped it.</summary>
    private static bool IsCancellation(Exception e) =>
        e is OperationCanceledException || (e is AggregateException all && all.InnerExceptions.Any(IsCancellation)) || (e.InnerException is { } inner && IsCancellation(inner));

    protected override bool ReceivePluginInternal(object message)
    {
        switch (message)
        {
            case VerifyWrite verify:
                Verify(verify.Write);
                return true;
            case WriteAgain again:
                Attempt(again.Write);
                return true;
            case ReadAgain again:
                AttemptRead(again.Read);
                return true;
            default:
                return base.ReceivePluginInternal(message);
        }
    }

    /// <summary>One attempt (on the journal's thread: the plugin's write path uses the actor's context).</summary>
    private void Attempt(PendingWrite write)
    {
        write.Attempts++;
        Task<IImmutableList<Exception>> attempt;
        try
        {
            attempt = base.WriteMessagesAsync(write.Messages, write.Cancellation);
        }
        catch (Exception e)
        {
            attempt = Task.FromException<IImmutableList<Exception>>(e);
        }
        var self = Self;
        attempt.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully) Succeeded(write, t.Result);
            else Failed(write, Cause(t), self);
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default); // not on the thread that completed the attempt (the plugin's write stream)
    }

    /// <summary>
    /// After a failed attempt: were the rows committed after all? (On the journal's thread.) A row found at one of the
    /// write's sequence numbers counts as this write's only if it holds exactly this write's payload: the attempt that
    /// failed may have committed it (its answer lost with the connection), but another incarnation of the partition
    /// may also have taken the number (two writers), and then it is not this write. (The writer id the plugin stores
    /// is its own journal's, not the writing actor's, so it cannot tell the two apart: a write of this very journal
    /// committed during an outage was refused as another incarnation's, and the partition stopped.)
    /// </summary>
    private void Verify(PendingWrite write)
    {
        var first = write.Messages[0];
        long from = first.LowestSequenceNr, to = write.Messages[^1].HighestSequenceNr;
        long found = 0, foreign = 0;
        var expected = ExpectedRows(write);
        var serialization = Context.System.Serialization;
        Task replay;
        try
        {
            replay = base.ReplayMessagesAsync(Context, first.PersistenceId, from, to, to - from + 1, row =>
            {
                Interlocked.Increment(ref found);
                if (!expected.TryGetValue(row.SequenceNr, out var payload) || !payload.AsSpan().SequenceEqual(Serialize(serialization, row.Payload)))
                    Interlocked.Increment(ref foreign);
            });
        }
        catch (Exception e)
        {
            replay = Task.FromException(e);
        }
        var self = Self;
        replay.ContinueWith(t =>
        {
            if (!t.IsCompletedSuccessfully)
            {
                Failed(write, Cause(t), self); // the store is still away: wait and look again
                return;
            }
            long rows = Interlocked.Read(ref found);
            if (Interlocked.Read(ref foreign) > 0)
                write.Done.TrySetException(new EnvironmentFailureException(FailedResource.Store,
                    $"{_store}: journal rows {from}..{to} of {first.PersistenceId} hold other rows than this write's (another incarnation of it wrote them: it started elsewhere before this one stopped); not counted as this write"));
            else if (rows == to - from + 1) Succeeded(write, null);
            else if (rows == 0) self.Tell(new WriteAgain(write));
            else
                write.Done.TrySetException(new EnvironmentFailureException(FailedResource.Store,
                    $"{_store}: journal rows {from}..{to} of {first.PersistenceId} are partly written ({rows} found) after a failed write"));
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default); // not on the thread that completed the attempt (the plugin's write stream)
    }

    /// <summary>The serialized payload of each row of a write, by sequence number (computed once per write, on the journal's thread).</summary>
    private Dictionary<long, byte[]> ExpectedRows(PendingWrite write)
    {
        if (write.Expected is { } known) return known;
        var serialization = Context.System.Serialization;
        var rows = new Dictionary<long, byte[]>();
        foreach (var message in write.Messages)
            if (message.Payload is IEnumerable<IPersistentRepresentation> representations)
                foreach (var row in representations)
                    rows[row.SequenceNr] = Serialize(serialization, row.Payload);
        return write.Expected = rows;
    }

    private static byte[] Serialize(Akka.Serialization.Serialization serialization, object payload) =>
        serialization.FindSerializerFor(payload).ToBinary(payload);

    private void Succeeded(PendingWrite write, IImmutableList<Exception>? result)
    {
        if (write.Retries > 0)
            _log.Info("{0}: a journal write succeeded after {1} retries ({2:0.0} s)", _store, write.Retries, write.Clock.Elapsed.TotalSeconds);
        write.Done.TrySetResult(result!);
    }

    private void Failed(PendingWrite write, Exception cause, IActorRef self)
    {
        var elapsed = write.Clock.Elapsed;
        if (write.Cancellation.IsCancellationRequested || elapsed >= _retry.GiveUpAfter)
        {
            write.Done.TrySetException(StoreRetry.GaveUp(_store, "journal write", elapsed, write.Attempts, cause));
            return;
        }
        write.Retries++;
        StoreConnectionPool.Clear(_provider, _connectionString);
        var delay = _retry.Backoff(write.Retries);
        if (write.Retries == 1) WarnRateLimited(cause);
        _scheduler.ScheduleTellOnce(delay, self, new VerifyWrite(write), ActorRefs.NoSender);
    }

    private void WarnRateLimited(Exception cause)
    {
        long now = Stopwatch.GetTimestamp(), last = Interlocked.Read(ref _lastWarning);
        if (last != 0 && Stopwatch.GetElapsedTime(last, now) < TimeSpan.FromSeconds(5)) return;
        if (Interlocked.CompareExchange(ref _lastWarning, now, last) != last) return;
        _log.Warning("{0}: journal call failed ({1}); retrying with backoff for up to {2:0} s (streamdetect.store.retry)",
            _store, StoreRetry.OneLine(cause), _retry.GiveUpAfter.TotalSeconds);
    }

    private static Exception Cause(Task t) =>
        t.Exception?.GetBaseException() ?? (Exception)new TaskCanceledException("the write was cancelled");

    private sealed class PendingWrite(List<AtomicWrite> messages, CancellationToken cancellation)
    {
        public List<AtomicWrite> Messages { get; } = messages;

        public CancellationToken Cancellation { get; } = cancellation;

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public int Attempts { get; set; }

        public int Retries { get; set; }

        /// <summary>Its rows' serialized payloads by sequence number, once a check after a failed attempt needed them.</summary>
        public Dictionary<long, byte[]>? Expected { get; set; }

        public TaskCompletionSource<IImmutableList<Exception>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class PendingRead(string persistenceId, long fromSequenceNr, CancellationToken cancellation)
    {
        public string PersistenceId { get; } = persistenceId;

        public long FromSequenceNr { get; } = fromSequenceNr;

        public CancellationToken Cancellation { get; } = cancellation;

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        public int Attempts { get; set; }

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record ReadAgain(PendingRead Read);

    private sealed record VerifyWrite(PendingWrite Write);

    private sealed record WriteAgain(PendingWrite Write);
}
