namespace StreamDetect.Integration.Tests.Support;

/// <summary>An uninterrupted `run --ingest-only`: its input file and the `state dump` it left (<see cref="UninterruptedRuns"/>).</summary>
public sealed record IngestOnlyReference(string Input, string Dump);
