namespace StreamDetect.Engine.Pipeline;

/// <summary>The scoring part of a run summary.</summary>
public sealed class ScoringSummary
{
    public string Model { get; set; } = "";
    public string Device { get; set; } = "";
    public string? ModelFile { get; set; }
    public double TrainingS { get; set; }
    public long RequestsScored { get; set; }

    /// <summary>Events scored and decided (a request holds a user's events since its previous one).</summary>
    public long EventsScored { get; set; }
    public long Batches { get; set; }
    public double MeanBatch { get; set; }
    public double ScorerS { get; set; }
    public double ScorerEventsPerS { get; set; }
    public double LatencyP50Ms { get; set; }
    public double LatencyP99Ms { get; set; }
    public double AlertLatencyP50Ms { get; set; }
    public double AlertLatencyP99Ms { get; set; }
    public string? EvaluatedFrom { get; set; }
    public int EvaluatedUsers { get; set; }
    public int AnomalousUsers { get; set; }
    public double NormalAlertRate { get; set; }

    /// <summary>With a model schedule (issue 11): the events each champion (name@version) scored; null without one.</summary>
    public Dictionary<string, long>? EventsByModel { get; set; }

    /// <summary>With a model schedule: the boundaries where the plan changed (champion, shadow, reason); null without one.</summary>
    public List<Stages.Scoring.PlanChange>? PlanChanges { get; set; }

    /// <summary>With a model schedule: alerts the shadow models would have raised (never emitted); null without one.</summary>
    public long? ShadowAlerts { get; set; }

    /// <summary>Where the shadow alerts were written, or null (none written).</summary>
    public string? ShadowAlertsFile { get; set; }
}
