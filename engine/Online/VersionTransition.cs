using StreamDetect.Models.Online;

namespace StreamDetect.Engine.Online;

/// <summary>One step of a version's life in a run (what `eval --online` lists under <c>versions</c>, and what the
/// registry records): at which boundary, to which status, why, and the gate figures it was judged by.</summary>
/// <param name="BoundaryKey">The order key of the boundary the transition took effect at.</param>
/// <param name="Status">candidate, shadow, champion, rejected or retired (a rolled-back champion is rejected).</param>
public sealed record VersionTransition(long BoundaryKey, string Version, string? Parent, string Status, string Reason, IReadOnlyList<GateResult> Gates);
