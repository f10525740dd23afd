using Akka.Configuration;
using StreamDetect.Engine.Pipeline.Inputs;
using StreamDetect.Engine.Pipeline.Outputs;

namespace StreamDetect.Engine.Pipeline;

/// <summary>What a run was asked to do: the configuration and the options that are not settings.</summary>
/// <param name="Source">Where events come from.</param>
/// <param name="Input">The file for <see cref="EventSourceKind.File"/> (<c>-</c> = stdin).</param>
/// <param name="DeadLetterSink">Where rejected records go.</param>
/// <param name="DeadLetterPath">The file for <see cref="DeadLetterSinkKind.File"/>.</param>
/// <param name="ModelPath">A saved model to score with; null trains one (generator and file sources).</param>
/// <param name="AlertSink">Where alerts go.</param>
/// <param name="AlertsPath">The file for <see cref="AlertSinkKind.File"/>.</param>
/// <param name="StopAfterIdle">Kafka: finish once no record arrived for this long.</param>
/// <param name="DumpFeatures">Also write every scored event's features to this file.</param>
/// <param name="Device">cpu, cuda or auto (overrides streamdetect.models.device).</param>
/// <param name="IngestOnly">Validate and persist the per-user state only: no model, no scoring, no alerts.</param>
public sealed record RunRequest(
    Config Config,
    EventSourceKind Source,
    string? Input,
    DeadLetterSinkKind DeadLetterSink,
    string? DeadLetterPath,
    string? ModelPath,
    AlertSinkKind AlertSink,
    string? AlertsPath,
    TimeSpan? StopAfterIdle,
    string? DumpFeatures,
    string? Device,
    bool IngestOnly = false)
{
    /// <summary>Where a shadow model's alerts go (issue 11, <c>run --shadow-alerts</c>); null: DATA_DIR/shadow-alerts.jsonl.</summary>
    public string? ShadowAlertsPath { get; init; }
}
