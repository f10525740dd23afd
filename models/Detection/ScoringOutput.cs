using StreamDetect.Models.Features;

namespace StreamDetect.Models.Detection;

/// <summary>
/// The verdict on one <see cref="ScoringInput"/>.
/// </summary>
/// <param name="Score">Calibrated anomaly score, higher = more anomalous: -log10 of the share of normal
/// validation user-days whose highest score reached this one (3 = 1 normal user-day in 1000; see
/// <see cref="CalibrationBasis"/>), extrapolated beyond the largest. Comparable across detectors. The
/// uncalibrated score is in <see cref="Explanation.RawScore"/>.</param>
/// <param name="NewState">The detector's new per-user state (store it and pass it back next time), or
/// null for stateless detectors.</param>
/// <param name="Explanation">Why: least expected events or feature contributions.</param>
public sealed record ScoringOutput(double Score, ModelStateSlot? NewState, Explanation Explanation);
