namespace StreamDetect.Engine.Registry;

/// <summary>
/// How a version was made, beyond its <see cref="ModelOrigin"/> (column <c>origin_detail</c>, a JSON object
/// <c>{"samples","eventsFrom","eventsUntil","steps","source"}</c>, the fields that are known only).
/// </summary>
/// <param name="Samples">Training samples (events or sequences) it learned from.</param>
/// <param name="EventsFrom">Event time of the first sample.</param>
/// <param name="EventsUntil">End (exclusive) of the event-time range it learned from.</param>
/// <param name="Steps">Optimizer steps (a fine-tuning round).</param>
/// <param name="Source">Where it came from in words: the training file, "run on generator traffic", a model file.</param>
public sealed record OriginDetail(
    long? Samples = null,
    DateTimeOffset? EventsFrom = null,
    DateTimeOffset? EventsUntil = null,
    int? Steps = null,
    string? Source = null)
{
    public static OriginDetail None { get; } = new();
}
