namespace StreamDetect.Stages.Kafka;

/// <summary>
/// The life of a <see cref="KafkaConsumerSession"/>: its <see cref="KafkaConsumerState"/>, every transition
/// between states, and what its poll thread is to do next (<see cref="Next"/>). The session calls it under
/// its lock and carries the steps out; this class touches no consumer, thread or clock (time is passed in),
/// so each transition is unit-tested without a broker. Not thread-safe.
/// </summary>
/// <remarks>
/// <code>
/// from                                  event                                   to
/// Created                               Start                                   Joining (the poll thread starts)
/// Created                               Stop                                    Stopped
/// Created, Stopped                      Shutdown                                Closed (no consumer ever ran)
/// Joining                               Assigned                                Consuming
/// Consuming                             Next: buffer full a whole poll timeout  Paused
/// Paused                                Next: buffer has room                   Consuming
/// Joining, Consuming, Paused            Stop                                    Draining
/// Joining, Consuming, Paused, Draining  Shutdown                                ShuttingDown
/// any                                   ConsumerClosed (the poll thread ended)  Closed
/// </code>
/// A revocation is not a state: it can happen whenever the consumer is in its group (Consuming, Paused,
/// Draining, and while closing), and it returns to where it was. <see cref="Revoking"/> marks it, so that
/// completions wake its wait for in-flight records, and <see cref="IsLeaving"/> cuts that wait short.
/// </remarks>
internal sealed class KafkaConsumerStateMachine
{
    private readonly TimeSpan _pollTimeout;
    private readonly KafkaFaultSettings _faults;
    private int _commitFailures;
    private TimeSpan? _fullSince;
    private TimeSpan? _lastPoll;
    private TimeSpan? _commitRetryDue;

    /// <param name="pollTimeout">Longest a poll blocks; also how often a paused or draining consumer is polled to serve its group.</param>
    /// <param name="faults">How a refused commit backs off (<see cref="KafkaFaultSettings.RetryDelay"/>); the defaults when null.</param>
    public KafkaConsumerStateMachine(TimeSpan pollTimeout, KafkaFaultSettings? faults = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollTimeout, TimeSpan.Zero);
        _pollTimeout = pollTimeout;
        _faults = faults ?? KafkaFaultSettings.Default;
    }

    /// <summary>Commits refused in a row since the last accepted one (each doubles the wait before the next retry).</summary>
    public int CommitFailures => _commitFailures;

    public KafkaConsumerState State { get; private set; } = KafkaConsumerState.Created;

    /// <summary>Whether a rebalance has given the consumer its partitions (possibly none) at least once.</summary>
    public bool Joined { get; private set; }

    /// <summary>Whether a revocation is waiting for the revoked partitions' records in flight.</summary>
    public bool Revoking { get; private set; }

    /// <summary>Whether a commit was requested and not yet handed to the poll thread.</summary>
    public bool CommitRequested { get; private set; }

    /// <summary>The fatal consumer error reported, if any; the poll thread ends with it.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Whether buffered records may be emitted (and polled ones buffered).</summary>
    public bool Emitting => State is KafkaConsumerState.Joining or KafkaConsumerState.Consuming or KafkaConsumerState.Paused;

    /// <summary>Whether the consumer is on its way out of the group (or out): nothing is worth waiting for any more.</summary>
    public bool IsLeaving => State is KafkaConsumerState.ShuttingDown or KafkaConsumerState.Closed;

    /// <summary>The stage started. True: start the poll thread (now Joining). False: it was stopped or shut down first, so no consumer is created.</summary>
    public bool Start()
    {
        switch (State)
        {
            case KafkaConsumerState.Created:
                State = KafkaConsumerState.Joining;
                return true;
            case KafkaConsumerState.Stopped or KafkaConsumerState.Closed:
                return false;
            default:
                throw new InvalidOperationException($"the Kafka consumer session was already started ({State})");
        }
    }

    /// <summary>Stop: emit nothing more, keep the group membership for commits. True when it changed the state.</summary>
    public bool Stop()
    {
        switch (State)
        {
            case KafkaConsumerState.Created:
                State = KafkaConsumerState.Stopped;
                return true;
            case KafkaConsumerState.Joining or KafkaConsumerState.Consuming or KafkaConsumerState.Paused:
                State = KafkaConsumerState.Draining;
                _fullSince = null;
                _lastPoll = null; // the next step pauses the assignment at once
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Shutdown: to ShuttingDown while a poll thread runs (it closes the consumer), or straight to Closed
    /// when no consumer was ever started. True when it changed the state.
    /// </summary>
    public bool Shutdown()
    {
        switch (State)
        {
            case KafkaConsumerState.Created or KafkaConsumerState.Stopped:
                State = KafkaConsumerState.Closed;
                return true;
            case KafkaConsumerState.Joining or KafkaConsumerState.Consuming or KafkaConsumerState.Paused or KafkaConsumerState.Draining:
                State = KafkaConsumerState.ShuttingDown;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A rebalance assigned partitions (possibly none): the consumer has joined.</summary>
    public void Assigned()
    {
        Joined = true;
        if (State == KafkaConsumerState.Joining) State = KafkaConsumerState.Consuming;
    }

    /// <summary>The poll thread ended, the consumer closed (or failed): nothing more happens.</summary>
    public void ConsumerClosed()
    {
        State = KafkaConsumerState.Closed;
        CommitRequested = false;
        _commitRetryDue = null;
        Revoking = false;
    }

    /// <summary>Asks the poll thread to commit. False when no poll thread runs (nothing to commit): the request is answered at once.</summary>
    public bool RequestCommit()
    {
        if (State is KafkaConsumerState.Created or KafkaConsumerState.Stopped or KafkaConsumerState.Closed) return false;
        CommitRequested = true;
        return true;
    }

    /// <summary>
    /// A commit was refused (a rebalance, a coordinator moving, a timeout, no broker): it is tried again after
    /// <paramref name="now"/> plus the backoff, which doubles with each refusal in a row from retry-backoff up to
    /// retry-backoff-max (streamdetect.kafka), unless a new request comes first.
    /// </summary>
    public void CommitFailed(TimeSpan now) => _commitRetryDue = now + _faults.RetryDelay(++_commitFailures);

    /// <summary>A commit was accepted: the next refusal waits the first backoff again.</summary>
    public void CommitSucceeded() => _commitFailures = 0;

    /// <summary>A fatal consumer error: the poll thread's next step is <see cref="PollStepKind.Fail"/> (the first error is kept).</summary>
    public void Fail(Exception error) => Failure ??= error;

    /// <summary>A revocation starts. True when it is to wait for the revoked partitions' records in flight (not when the consumer is leaving).</summary>
    public bool BeginRevocation()
    {
        Revoking = true;
        return !IsLeaving;
    }

    public void EndRevocation() => Revoking = false;

    /// <summary>
    /// The poll thread's next step, given whether the buffer is full and the time now (any monotonic clock).
    /// Shutting down comes first, then a fatal error, then a commit asked for (once the backoff after a refused
    /// one has passed) or due again; then polling,
    /// which depends on the state: Joining and Consuming poll for records; Consuming whose buffer stays full
    /// for a poll timeout becomes Paused; Paused and Draining poll (paused, without blocking) once a poll
    /// timeout, so the group is served and nothing spins; Paused whose buffer has room is Consuming again.
    /// </summary>
    public PollStep Next(bool bufferFull, TimeSpan now)
    {
        if (IsLeaving) return PollStep.Close;
        if (Failure is not null) return PollStep.Fail;
        // A refused commit backs off: requests that come meanwhile wait for the retry (they are coalesced into it).
        if (_commitRetryDue is { } due ? now >= due : CommitRequested)
        {
            CommitRequested = false;
            _commitRetryDue = null;
            return PollStep.Commit;
        }
        switch (State)
        {
            case KafkaConsumerState.Joining:
                return PollNow(now, paused: false);
            case KafkaConsumerState.Consuming when !bufferFull:
                _fullSince = null;
                return PollNow(now, paused: false);
            case KafkaConsumerState.Consuming:
                // Wait for the stage to take records; if the buffer stays full a whole poll timeout (slow or
                // stalled downstream), pause and poll anyway, so rebalances and the session are still served.
                _fullSince ??= now;
                if (now < _fullSince + _pollTimeout) return WaitUntil(_fullSince.Value + _pollTimeout, now);
                State = KafkaConsumerState.Paused;
                _fullSince = null;
                return PollNow(now, paused: true);
            case KafkaConsumerState.Paused when !bufferFull:
                State = KafkaConsumerState.Consuming;
                return PollNow(now, paused: false);
            case KafkaConsumerState.Paused or KafkaConsumerState.Draining:
                if (_lastPoll is { } last && now < last + _pollTimeout) return WaitUntil(last + _pollTimeout, now);
                return PollNow(now, paused: true);
            default:
                throw new InvalidOperationException($"no poll thread runs in state {State}");
        }
    }

    private PollStep PollNow(TimeSpan now, bool paused)
    {
        _lastPoll = now;
        // Paused, a poll only serves the group: it must not block (there is nothing to fetch).
        return PollStep.Poll(paused ? TimeSpan.Zero : _pollTimeout, paused);
    }

    private PollStep WaitUntil(TimeSpan deadline, TimeSpan now)
    {
        if (_commitRetryDue is { } due && due < deadline) deadline = due;
        return PollStep.Wait(deadline - now);
    }
}
