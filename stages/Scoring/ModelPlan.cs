using StreamDetect.Models.Detection;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// Which detectors score from an order-key boundary on (issue 11): the <paramref name="Champion"/>, whose verdicts decide
/// the alerts, and optionally a <paramref name="Shadow"/>, scored on the same batches, whose alerts go to the shadow
/// output only, never to the alert sink.
/// </summary>
/// <param name="Champion">Scores and decides from the boundary on.</param>
/// <param name="Shadow">Scored beside the champion from the boundary on (null: none).</param>
/// <param name="Reason">Why the plan changed (or "unchanged"), for the logs, the run report and the registry.</param>
public sealed record ModelPlan(IAnomalyDetector Champion, IAnomalyDetector? Shadow, string Reason);
