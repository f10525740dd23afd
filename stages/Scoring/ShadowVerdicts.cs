using StreamDetect.Models.Detection;
using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Scoring;

/// <summary>
/// What the shadow detector made of a request the champion decided (issue 11): its model@version, its output, and the
/// alerts it would have raised under its own calibrated thresholds. These alerts go to the shadow output only.
/// </summary>
public sealed record ShadowVerdicts(string Model, ScoringOutput Output, IReadOnlyList<AlertRecord> Alerts);
