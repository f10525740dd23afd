using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// How a run's scoring loop learns online (issue 11): the <paramref name="Schedule"/> it scores by (the plan over order
/// keys: champion, shadow), the observer that sees every decided request (the trainer), and what the run disposes when
/// it ends. With none of these the loop scores with the run's model alone, as before.
/// </summary>
/// <param name="Schedule">The model plan; null: the run's model scores everything.</param>
/// <param name="Observer">Sees every decided request with the shadow's verdicts; null: none.</param>
/// <param name="Owned">Disposed when the run's stream has ended, before the schedule (the trainer: stop it there); null: none.</param>
public sealed record OnlineScoring(ModelSchedule? Schedule, IScoringObserver? Observer, IDisposable? Owned = null)
{
    /// <summary>Hears every analyst label of the run's feedback inputs (the trainer: purges and false alarms); null: none.</summary>
    public Action<Stages.Feedback.FeedbackLabel>? Feedback { get; init; }
}
