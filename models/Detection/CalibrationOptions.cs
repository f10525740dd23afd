namespace StreamDetect.Models.Detection;

/// <summary>How calibrations are fitted (see <see cref="Calibration.ScoreCalibration"/>).</summary>
/// <param name="Points">Quantile points kept per calibration.</param>
/// <param name="TailFraction">Top share of normal scores modelled by the exponential tail.</param>
/// <param name="Basis">What a calibrated score counts: normal user-days (default) or normal events.</param>
/// <param name="WarmUpDays">The validation replay scores only events this many days after the validation data
/// starts (earlier ones build the users' state, and recurrent states are rebuilt from the window at the first
/// scored event): users then have history, as they do when a trained model is deployed or evaluated. At most a
/// third of the validation period is used.</param>
public sealed record CalibrationOptions(int Points = 1024, double TailFraction = 0.02, CalibrationBasis Basis = CalibrationBasis.UserDay, double WarmUpDays = 1);
