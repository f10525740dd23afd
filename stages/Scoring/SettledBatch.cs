using StreamDetect.Stages.Alerts;

namespace StreamDetect.Stages.Scoring;

/// <summary>Decided requests after their partitions settled them: the alerts the partitions accepted (journaled), oldest first per user.</summary>
public sealed record SettledBatch(IReadOnlyList<DecidedRequest> Requests, IReadOnlyList<AlertRecord> Alerts);
