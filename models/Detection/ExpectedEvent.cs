namespace StreamDetect.Models.Detection;

/// <summary>One of a sequence model's top-k predictions for the next event type.</summary>
public sealed record ExpectedEvent(string Type, double Probability);
