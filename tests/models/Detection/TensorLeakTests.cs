using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Detection;

/// <summary>Scoring disposes every per-batch tensor (dispose scopes), so the live tensor count stays flat.</summary>
public sealed class TensorLeakTests(TrainedDetectors trained)
{
    public static TheoryData<string> Models => new() { "lstm", "gru", "transformer", "ae", "gan", "knn", "ensemble" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Scoring_many_batches_leaves_no_tensor_alive(string model)
    {
        var detector = trained.Get(model);
        // Each user's last (up to) 3 events as new ones: several per input, and state rebuilt from the window.
        var inputs = trained.Data.Users.Take(200).Select(u =>
        {
            var replay = u.StartReplay(32);
            int take = Math.Min(3, u.Count);
            while (replay.Position < u.Count - take) replay.Advance();
            return replay.AdvanceAsInput(take);
        }).ToArray();
        detector.ScoreBatch(inputs); // warm-up (lazy version hash, caches)

        var statistics = DisposeScopeManager.Statistics;
        long before = statistics.ThreadTotalLiveCount;
        var states = detector.ScoreBatch(inputs).Select(o => o.NewState).ToArray();
        for (int batch = 0; batch < 30; batch++)
        {
            var next = inputs.Select((input, i) => input with { State = states[i], NewEvents = 1, Features = input.FeaturesAt(input.NewEvents - 1).ToArray() }).ToArray();
            detector.ScoreBatch(next);
        }
        Assert.Equal(before, statistics.ThreadTotalLiveCount);
    }
}
