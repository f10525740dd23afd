using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Detection;

/// <summary>Every detector separates the planted anomalous users (scrapers, card testers) from normal shoppers.</summary>
public sealed class FeatureDetectorTests(TrainedDetectors trained)
{
    public static TheoryData<string> Models => new() { "ae", "gan", "knn", "zscore", "iforest", "lstm", "gru", "transformer", "ensemble" };

    /// <summary>The planted users are scrapers (ordinary types at sub-second gaps) and card testers: feature anomalies.</summary>
    public static TheoryData<string> FeatureModels => new() { "ae", "gan", "knn", "zscore", "iforest", "ensemble" };

    [Theory]
    [MemberData(nameof(FeatureModels))]
    public void A_planted_anomaly_cluster_is_separated_with_roc_auc_above_0_9(string model)
    {
        var detector = trained.Get(model);
        var result = Evaluator.Evaluate(detector, trained.Data, TruthTable.Empty, new EvaluationOptions(), TestContext.Current.CancellationToken);
        var users = result.Report.Overall.Users;
        Assert.Equal(40, users.Positives);
        Assert.True(users.RocAuc > 0.9, $"{model}: user-level ROC-AUC {users.RocAuc:F3}, PR-AUC {users.PrAuc:F3}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Explanations_name_the_model_and_what_was_unusual(string model)
    {
        var detector = trained.Get(model);
        var anomalous = trained.Data.Users.First(u => u.UserId.StartsWith("a-", StringComparison.Ordinal));
        var sample = anomalous.Replay(32).Last();
        var output = detector.ScoreBatch([sample.ToScoringInput(null)])[0];
        Assert.Equal(model, output.Explanation.Model);
        Assert.True(double.IsFinite(output.Score));
        bool explained = output.Explanation.UnexpectedEvents.Count > 0 || output.Explanation.Features.Count > 0;
        // Explanations are built from ExplainFrom up; the feature models and the ensemble flag this user.
        Assert.Equal(output.Score >= ((Models.Detection.AnomalyDetector)detector).ExplainFrom, explained);
        if (model is not ("lstm" or "gru" or "transformer")) Assert.True(explained, $"{model} scored {output.Score:F2}");
        foreach (var feature in output.Explanation.Features) Assert.InRange(feature.Share, 0, 1);
        if (model == "ensemble") Assert.Equal(4, output.Explanation.Members.Count);
    }
}
