using StreamDetect.Models.Detection;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Sessions;

/// <summary>
/// Every detector trained on data with session end markers scores each marker (a finite verdict of its own); the
/// sequence models explain a verdict on a marker with the session's end reason, and only such verdicts.
/// </summary>
public sealed class MarkerVerdictTests(TrainedDetectors trained) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sd-marker-verdicts-").FullName;
    private readonly List<IAnomalyDetector> _loaded = [];

    public static TheoryData<string> Models => new() { "lstm", "gru", "transformer", "ae", "gan", "knn", "zscore", "iforest", "novelty", "ensemble" };

    public void Dispose()
    {
        foreach (var detector in _loaded) detector.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_marker_gets_a_finite_verdict_and_sequence_models_explain_it_as_a_session_end(string model)
    {
        var detector = Explaining(model);
        bool sequence = model is "lstm" or "gru" or "transformer" or "novelty" or "ensemble";
        var users = trained.Data.Users.Where(u => u.UserId.StartsWith("n-", StringComparison.Ordinal)).Take(5).ToArray();
        int markers = 0;
        foreach (var user in users)
        {
            var input = user.StartReplay(trained.Data.WindowCapacity).AdvanceAsInput(user.Count);
            var output = detector.ScoreBatch([input])[0];
            for (int i = 0; i < user.Count; i++)
            {
                Assert.True(double.IsFinite(output.ScoreAt(i)), $"{model} {user.UserId} entry {i}: score {output.ScoreAt(i)}");
                var end = output.ExplanationAt(i).SessionEnd;
                if (!user.IsEndMarker(i))
                {
                    Assert.Null(end);
                    continue;
                }
                markers++;
                if (!sequence) continue;
                Assert.NotNull(end);
                Assert.Equal(user.Entries[i - 1].Type, end.EndedAfter);
                Assert.InRange(end.EndProbability, 0, 1);
                Assert.Contains("logout", end.NormalEndsAfter);
            }
        }
        Assert.True(markers >= users.Length, $"{markers} markers in {users.Length} users");
        Assert.All(users, u => Assert.True(u.IsEndMarker(u.Count - 1), $"{u.UserId}: the end of the input closes the last session"));
    }

    private IAnomalyDetector Explaining(string model)
    {
        string path = Path.Combine(_directory, model + ".sdm");
        trained.Get(model).Save(path);
        var detector = DetectorFile.Load(path, torch.CPU);
        _loaded.Add(detector);
        ((AnomalyDetector)detector).ExplainFrom = double.NegativeInfinity;
        return detector;
    }
}
