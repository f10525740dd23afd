using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Replay;

/// <summary>
/// Scores a dataset the way the stream does: every user replayed through its own
/// <see cref="Features.UserBehaviorState"/>, every entry (event, or session end marker when the dataset was built with a
/// session rule) scored once as the user's newest (<c>NewEvents = 1</c>) with the detector's state from the previous
/// entry passed back, users batched
/// together. Rounds take the next event of every user that has one, so a batch never holds one user
/// twice. A user's first scored event after the warm-up has no state: the detector rebuilds it from the
/// window, as after a restart.
/// </summary>
public static class StreamingReplay
{
    /// <returns>The number of entries (events and end markers) scored.</returns>
    public static long Run(BehaviorDataset data, IAnomalyDetector detector, ReplayOptions options, Action<ReplayScore> onScore,
        CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        var cursors = new UserReplay[data.Users.Count];
        var active = new List<int>(data.Users.Count);
        for (int u = 0; u < cursors.Length; u++)
        {
            var cursor = data.Users[u].StartReplay(data.WindowCapacity);
            while (cursor.HasNext && cursor.NextTimestampMs < options.ScoreFromMs) cursor.Advance();
            cursors[u] = cursor;
            if (cursor.HasNext) active.Add(u);
        }

        long scored = 0;
        var inputs = new List<ScoringInput>(options.BatchSize);
        var users = new List<int>(options.BatchSize);
        while (active.Count > 0)
        {
            for (int start = 0; start < active.Count; start += options.BatchSize)
            {
                cancellation.ThrowIfCancellationRequested();
                inputs.Clear();
                users.Clear();
                for (int a = start; a < Math.Min(active.Count, start + options.BatchSize); a++)
                {
                    var cursor = cursors[active[a]];
                    cursor.Advance();
                    inputs.Add(cursor.Sample().ToScoringInput(cursor.DetectorState));
                    users.Add(active[a]);
                }
                var outputs = detector.ScoreBatch(inputs);
                for (int q = 0; q < outputs.Length; q++)
                {
                    var cursor = cursors[users[q]];
                    cursor.DetectorState = outputs[q].NewState;
                    onScore(new ReplayScore(users[q], cursor.Position - 1, cursor.LastTimestampMs, outputs[q]));
                }
                scored += outputs.Length;
            }
            active.RemoveAll(u => !cursors[u].HasNext);
        }
        return scored;
    }
}
