using System.Text.Json;
using System.Text.Json.Serialization;

namespace StreamDetect.Engine.Pipeline;

/// <summary>
/// The machine-readable result of `streamdetect run` (`--summary-json FILE`). Keys are snake_case;
/// sections that do not apply to a run (e.g. scenarios without labels) are omitted.
/// </summary>
public sealed class RunSummary
{
    public string Source { get; set; } = "";
    public long EventsIn { get; set; }
    public long EventsValid { get; set; }
    public long DeadLetters { get; set; }
    public Dictionary<string, long> DeadLetterReasons { get; set; } = new();
    public int Users { get; set; }
    public double ElapsedS { get; set; }
    public double EventsPerS { get; set; }

    /// <summary>Seconds from the first event in to the last persisted (without start-up and the idle wait of a Kafka run).</summary>
    public double StreamingS { get; set; }

    /// <summary>Valid events per second of <see cref="StreamingS"/>.</summary>
    public double StreamingEventsPerS { get; set; }
    public Dictionary<string, long> EventTypes { get; set; } = new();

    /// <summary>
    /// Seconds from the process's start to the first event persisted by a partition: on a restart, the time until the
    /// first new event is processed (start-up, the model, and the recovery of that event's partition; a scoring run
    /// recovers every partition before its stream starts). Null without events.
    /// </summary>
    public double? FirstPersistedS { get; set; }

    /// <summary>The process's memory after the stream (`run --measure-memory`).</summary>
    public MemorySummary? Memory { get; set; }

    /// <summary>Kafka runs: records deleted by retention before the group read them (logged per partition; streamdetect.kafka.on-retention-loss).</summary>
    public long? EventsLostToRetention { get; set; }
    public long? LabelledEvents { get; set; }

    /// <summary>Anomalous users per scenario (from the truth file beside the input, or the generator).</summary>
    public Dictionary<string, int>? AnomalousUsersPerScenario { get; set; }

    /// <summary>The user partitions: state and persistence figures.</summary>
    public EntitySummary? Entities { get; set; }

    /// <summary>The model and the scoring figures (absent for an ingest-only run).</summary>
    public ScoringSummary? Scoring { get; set; }

    /// <summary>Alerts emitted.</summary>
    public long? Alerts { get; set; }

    /// <summary>Alerts journaled before a crash but not confirmed delivered that the output held already (not written again).</summary>
    public long? AlertsAlreadyEmitted { get; set; }

    /// <summary>Alerts journaled before a crash, never confirmed delivered, and written by this run.</summary>
    public long? AlertsRedelivered { get; set; }

    /// <summary>User-level quality against the labels (evaluated period only), when the events carry labels.</summary>
    public double? Precision { get; set; }
    public double? Recall { get; set; }
    public double? F1 { get; set; }

    /// <summary>Per scenario (truth file or generator): users, detected, precision, recall, f1.</summary>
    public Dictionary<string, ScenarioQuality>? Scenarios { get; set; }

    /// <summary>Users with at least one event labelled 1 (when events carry labels).</summary>
    public int? LabelledAnomalousUsers { get; set; }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public void WriteTo(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(path, ToJson() + "\n");
    }
}
