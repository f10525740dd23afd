using StreamDetect.Models.Baselines;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Reconstruction;

namespace StreamDetect.Models.Online;

/// <summary>
/// The cheap refit of an ensemble's feature members in a fine-tuning round
/// (<see cref="OnlineLearningOptions.RefitFeatureMembers"/>): the z-score member's per-feature median and scale are
/// fitted again on the round's training samples and the anchor users, so that a candidate's z-scores follow the
/// population of the round (a release's new event types land in the <c>count_other_*</c> features, which the training
/// data's scaling makes extreme for every user that uses them) while the anchors keep the original behaviour inside the
/// fitted range. With <see cref="OnlineLearningOptions.RefitAutoencoderSteps"/> above 0 the autoencoder member's network
/// is trained on from its weights on the same rows, its training-time scaling kept (the reconstruction learns the new
/// types' counts as they are scaled at training; refitting that scaling as well was measured worse). Deterministic: the
/// rows are chosen by the round's seed, the users kept in their given order. The other feature members (isolation
/// forest, ...) keep their training-time fit. The candidate is calibrated
/// afterwards as a whole, and the gates decide as for any candidate.
/// </summary>
internal static class FeatureMemberRefit
{
    /// <summary>Refits the feature members of <paramref name="copy"/> (a private copy; a non-ensemble is left as it is)
    /// and returns the names of those refitted.</summary>
    public static IReadOnlyList<string> Apply(AnomalyDetector copy, IReadOnlyList<OnlineSample> training, AnchorReservoir anchors, int seed, int autoencoderSteps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(autoencoderSteps);
        if (copy is not EnsembleDetector ensemble) return [];
        var refitted = new List<string>();
        BehaviorDataset? data = null;
        for (int m = 0; m < ensemble.Members.Count; m++)
        {
            var member = ensemble.Members[m];
            if (member is not RobustZScoreDetector && (member is not AutoencoderDetector || autoencoderSteps == 0)) continue;
            data ??= new BehaviorDataset([.. training.Select(s => s.Events), .. anchors.Users], anchors.WindowCapacity);
            ensemble.ReplaceMember(m, member switch
            {
                RobustZScoreDetector zscore => zscore.Refitted(data, seed),
                AutoencoderDetector autoencoder => autoencoder.WithNetworkTrainedOn(data, seed, autoencoderSteps),
                _ => throw new InvalidOperationException($"member '{member.Name}' has no refit"),
            });
            refitted.Add(member.Name);
        }
        return refitted;
    }
}
