using Akka.Configuration;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Everything a run needs, resolved from options and configuration.</summary>
/// <param name="Source">file, generator or kafka.</param>
/// <param name="Input">The file for source = file.</param>
/// <param name="DeadLetterSink">file, kafka or count.</param>
/// <param name="ModelPath">A saved model to score with; null trains one (generator and file sources).</param>
/// <param name="AlertSink">file, stdout, kafka or none.</param>
/// <param name="AlertsPath">The file for alert sink = file.</param>
/// <param name="StopAfterIdle">Kafka: finish once no record arrived for this long.</param>
/// <param name="DumpFeatures">Also write every scoring request's features to this file.</param>
/// <param name="Device">cpu, cuda or auto (overrides streamdetect.models.device).</param>
/// <param name="IngestOnly">Validate and persist the per-user state only: no model, no scoring, no alerts.</param>
public sealed record RunRequest(
    Config Config,
    string Source,
    string? Input,
    string DeadLetterSink,
    string? DeadLetterPath,
    string? ModelPath,
    string AlertSink,
    string? AlertsPath,
    TimeSpan? StopAfterIdle,
    string? DumpFeatures,
    string? Device,
    bool IngestOnly = false);
