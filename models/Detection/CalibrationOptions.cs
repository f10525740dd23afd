namespace StreamDetect.Models.Detection;

/// <summary>How calibrations are fitted (see <see cref="Calibration.ScoreCalibration"/>).</summary>
/// <param name="Points">Quantile points kept per calibration.</param>
/// <param name="TailFraction">Top share of normal scores modelled by the exponential tail.</param>
public sealed record CalibrationOptions(int Points = 1024, double TailFraction = 0.01);
