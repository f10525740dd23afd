using StreamDetect.Models.Detection;
using StreamDetect.Stages.Feedback;
using StreamDetect.Stages.Scoring;

namespace StreamDetect.Engine.Plans;

/// <summary>
/// The online trainer as the deciding node runs it under cluster-wide plans (<see cref="SharedPlanResolver"/>): it sees
/// this node's decided requests, resolves the boundaries the resolver releases to it (through the resolver's
/// <see cref="IModelSchedule"/>), and is told when the plan in force is not the one it decided.
/// </summary>
public interface IPlanTrainer : IScoringObserver, IDisposable
{
    /// <summary>The version the trainer believes decides now.</summary>
    string ChampionVersion { get; }

    /// <summary>Starts its thread.</summary>
    void Start();

    /// <summary>An analyst's label (the run's feedback inputs).</summary>
    void Feedback(FeedbackLabel label);

    /// <summary>
    /// Called on the trainer's thread (inside its resolve): from <paramref name="boundary"/> on <paramref name="champion"/>
    /// (an instance of the trainer's own, which it then owns) decides with no shadow, for <paramref name="reason"/>.
    /// </summary>
    void Adopt(IAnomalyDetector champion, long boundary, string reason);
}
