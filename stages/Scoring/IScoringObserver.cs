using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Sees every decided request once (issue 11: the online trainer's view of live traffic). Called on the decision stage's
/// thread, so an implementation only enqueues. Calls arrive in no fixed order across users (per user, in event order):
/// an implementation that must give the same result on every run orders what it keeps (by order key, then user).
/// </summary>
public interface IScoringObserver
{
    /// <param name="decided">The request, the champion's output and the alerts decided from it.</param>
    /// <param name="shadow">The shadow's verdicts on the same request, or null when no shadow scored it.</param>
    void Decided(DecidedRequest decided, ShadowVerdicts? shadow);
}
