using StreamDetect.Models.Baselines;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Evaluation;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;

namespace StreamDetect.Models.Tests.Ensemble;

/// <summary>
/// The ensemble chooses its members from validation data only (normal users, time-shifted and perturbed copies of
/// them): a member without spread is dropped, and on the synthetic shoppers with planted anomalies the chosen
/// ensemble ranks users at least as well as its best candidate member alone.
/// </summary>
public sealed class MemberSelectionTests(TrainedDetectors trained)
{
    private sealed class Lines : IProgress<TrainingProgress>
    {
        public List<string> Messages { get; } = [];

        public void Report(TrainingProgress value)
        {
            lock (Messages) if (value.Message is { } note) Messages.Add(note);
        }
    }

    [Fact]
    public void A_member_whose_scores_carry_no_spread_is_dropped()
    {
        // A z-score capped at a millionth scores every event the same: it cannot tell anyone apart.
        var options = TrainedDetectors.Options with
        {
            Models = TrainedDetectors.Options.Models
                .With(RobustZScoreDetector.Kind, p => p with { Clip = 1e-6f, Top = 1 })
                .With(EnsembleDetector.Kind, p => p with { Members = ["zscore", "novelty"], SelectMembers = true }),
        };
        var lines = new Lines();
        using var ensemble = (EnsembleDetector)DetectorTrainer.Train("ensemble", trained.Data, options, lines, TestContext.Current.CancellationToken);
        Assert.Equal(["novelty"], ensemble.Members.Select(m => m.Name));
        Assert.Contains(lines.Messages, m => m.StartsWith("member 'zscore'", StringComparison.Ordinal) && m.Contains("dropped: no spread", StringComparison.Ordinal));
    }

    [Fact]
    public void The_chosen_ensemble_ranks_users_no_worse_than_its_best_candidate_member()
    {
        var candidates = new[] { "gru", "zscore", "ae", "novelty" };
        var options = TrainedDetectors.Options with
        {
            Models = TrainedDetectors.Options.Models.With(EnsembleDetector.Kind, p => p with { Members = candidates, SelectMembers = true }),
        };
        var lines = new Lines();
        using var ensemble = (EnsembleDetector)DetectorTrainer.Train("ensemble", trained.Data, options, lines, TestContext.Current.CancellationToken);
        var evaluation = new EvaluationOptions();
        double Auc(IAnomalyDetector detector) =>
            Evaluator.Evaluate(detector, trained.Data, TruthTable.Empty, evaluation, TestContext.Current.CancellationToken).Report.Overall.Users.RocAuc;
        double own = Auc(ensemble);
        var alone = candidates.ToDictionary(c => c, c => Auc(trained.Get(c)));
        var best = alone.MaxBy(x => x.Value);
        string log = string.Join("; ", lines.Messages.Where(m => m.StartsWith("member", StringComparison.Ordinal) || m.StartsWith("ensemble of", StringComparison.Ordinal)));
        Assert.True(own >= best.Value - 1e-9,
            $"ensemble of {string.Join(", ", ensemble.Members.Select(m => m.Name))}: user ROC-AUC {own:F4}; best member {best.Key} {best.Value:F4} " +
            $"({string.Join(", ", alone.Select(x => $"{x.Key} {x.Value:F4}"))}); selection: {log}");
    }
}
