using System.Collections.Concurrent;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Integration.Tests.Scoring;

/// <summary>
/// Keeps every decided request the scoring loop reports (the online trainer's view), and counts decisions of events
/// at or past a boundary the schedule had not resolved when they were decided (there must be none).
/// </summary>
internal sealed class RecordingObserver(Func<ModelSchedule?> schedule) : IScoringObserver
{
    private long _decidedPastUnresolved;

    public ConcurrentQueue<(DecidedRequest Decided, ShadowVerdicts? Shadow)> Seen { get; } = new();

    public long DecidedPastUnresolved => Interlocked.Read(ref _decidedPastUnresolved);

    public void Decided(DecidedRequest decided, ShadowVerdicts? shadow)
    {
        if (schedule()?.NextBoundary is long next && decided.Request.OrderKeys[^1] >= next) Interlocked.Increment(ref _decidedPastUnresolved);
        Seen.Enqueue((decided, shadow));
    }
}
