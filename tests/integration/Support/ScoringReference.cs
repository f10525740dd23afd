namespace StreamDetect.Integration.Tests.Support;

/// <summary>
/// An uninterrupted scoring run (<see cref="UninterruptedRuns"/>): its `run` arguments without --alerts and --data-dir
/// (input, model, fixed thresholds), and the ids of the alerts it wrote.
/// </summary>
public sealed record ScoringReference(string[] Run, IReadOnlyList<string> AlertIds);
