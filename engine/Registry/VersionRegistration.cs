namespace StreamDetect.Engine.Registry;

/// <summary>What <see cref="ModelRegistry.Register(Models.Detection.IAnomalyDetector, VersionRegistration)"/> stores beside the model bytes.</summary>
/// <param name="Origin">trained (no parent) or fine-tuned (from <paramref name="ParentId"/>).</param>
/// <param name="Detail">Samples, event-time range, steps, source.</param>
/// <param name="ParentId">The version it was fine-tuned from (must be registered), or null.</param>
/// <param name="Gates">The gates it went through (empty when none ran yet).</param>
/// <param name="Reason">Why it is registered, for the lifecycle row (default: its origin).</param>
public sealed record VersionRegistration(
    ModelOrigin Origin,
    OriginDetail Detail,
    string? ParentId = null,
    IReadOnlyList<RecordedGate>? Gates = null,
    string? Reason = null)
{
    /// <summary>A version trained from scratch.</summary>
    public static VersionRegistration Trained(OriginDetail detail, string? reason = null) => new(ModelOrigin.Trained, detail, Reason: reason);
}
