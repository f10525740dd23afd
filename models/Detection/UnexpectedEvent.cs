namespace StreamDetect.Models.Detection;

/// <summary>An event of the window that the model did not expect.</summary>
/// <param name="WindowIndex">Index in the scored window (0 = oldest).</param>
/// <param name="TimestampMs">The event's time.</param>
/// <param name="Type">The event's type as it arrived (an unknown type keeps its own name).</param>
/// <param name="Surprise">-log p of the event under the model, in nats (gap surprise included when the model uses it).</param>
/// <param name="OutsideTopK">Whether the type was outside the model's top-k predictions (null when not known:
/// events scored in an earlier batch keep only their surprise).</param>
/// <param name="Expected">The model's top-k expected types at that point, most likely first (empty when not known).</param>
public sealed record UnexpectedEvent(
    int WindowIndex,
    long TimestampMs,
    string Type,
    double Surprise,
    bool? OutsideTopK,
    IReadOnlyList<ExpectedEvent> Expected);
