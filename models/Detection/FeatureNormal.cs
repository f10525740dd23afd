namespace StreamDetect.Models.Detection;

/// <summary>
/// A feature's values over the events the model was trained on, in the feature vector's scale: the median,
/// and the 99% and 99.9% quantiles (null for a model file saved before they were kept, which has the median
/// only: its scaler's centre).
/// </summary>
public sealed record FeatureNormal(double Median, double? P99, double? P999);
