using StreamDetect.Stages.DeadLetters;

namespace StreamDetect.Engine.Pipeline;

/// <summary>What one ingest run saw.</summary>
public sealed record IngestResult(long RecordsIn, IngestStatistics Statistics, DeadLetterSummary DeadLetters, TimeSpan Elapsed);
