namespace StreamDetect.Stages.Scoring;

/// <summary>A boundary the model schedule resolved (<see cref="ModelSchedule.History"/>).</summary>
/// <param name="Boundary">The order key it took effect at.</param>
/// <param name="Champion">The champion from there on (name@version).</param>
/// <param name="Shadow">The shadow from there on (name@version), or null.</param>
/// <param name="Reason">The plan's reason.</param>
/// <param name="Changed">Whether the detectors differ from those before the boundary.</param>
public sealed record PlanChange(long Boundary, string Champion, string? Shadow, string Reason, bool Changed);
