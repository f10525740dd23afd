namespace StreamDetect.Models.Detection;

/// <summary>What the calibrated score's probability is taken over.</summary>
public enum CalibrationBasis
{
    /// <summary>
    /// -log10 of the share of normal validation user-days whose highest raw score reaches this one. Users are
    /// judged by their highest score, and detectors differ in how much their scores vary from event to
    /// event; calibrating the daily maxima puts every detector on the same footing for that judgement.
    /// </summary>
    UserDay,

    /// <summary>-log10 of the share of normal validation events scoring at least this high.</summary>
    Event,
}
