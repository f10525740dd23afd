using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Online;

/// <summary>Several observers behind the scoring side's one (the trainer, and `eval --online`'s per-day tally).</summary>
public sealed class ScoringObservers(params IScoringObserver[] observers) : IScoringObserver
{
    public void Decided(Stages.Alerts.DecidedRequest decided, ShadowVerdicts? shadow)
    {
        foreach (var observer in observers) observer.Decided(decided, shadow);
    }
}
