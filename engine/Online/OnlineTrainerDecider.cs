using StreamDetect.Engine.Plans;
using StreamDetect.Models.Detection;
using StreamDetect.Stages.Alerts;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>The <see cref="OnlineTrainer"/> as the deciding node of cluster-wide plans runs it (<see cref="SharedPlanResolver"/>).</summary>
public sealed class OnlineTrainerDecider(OnlineTrainer trainer) : IPlanTrainer
{
    public OnlineTrainer Trainer => trainer;

    public string ChampionVersion => trainer.Champion.Version;

    public void Start() => trainer.Start();

    public void Decided(DecidedRequest decided, ShadowVerdicts? shadow) => trainer.Decided(decided, shadow);

    public void Feedback(FeedbackLabel label) => trainer.Feedback(label);

    public void Adopt(IAnomalyDetector champion, long boundary, string reason) => trainer.Adopt(champion, boundary, reason);

    public void Dispose() => trainer.Dispose();
}
