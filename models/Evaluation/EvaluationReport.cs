using System.Text.Json.Serialization;

namespace StreamDetect.Models.Evaluation;

/// <summary>The result of an evaluation: overall and per-scenario metrics, user-level and event-level, and the
/// measured alert rate of normal entities next to the wanted one.</summary>
public sealed record EvaluationReport(
    string Model,
    string Version,
    DateTime From,
    DateTime Until,
    double PeriodDays,
    double AlertRate,
    double Threshold,
    int UsersScored,
    long EventsScored,
    double NormalUserAlertRate,
    double ScoringSeconds,
    ScenarioMetrics Overall,
    IReadOnlyList<ScenarioMetrics> Scenarios)
{
    /// <summary>How the detector decides (calibrated score at the wanted rate, a sequence model's top-k rule, a given threshold).</summary>
    public string Decision { get; init; } = "";

    /// <summary>Mean active days (UTC days with a scored event) per evaluated entity: what turns <see cref="AlertRate"/> into a per-active-day rate.</summary>
    public double ActiveDaysPerEntity { get; init; } = 1;

    /// <summary>The per-active-day alert rate that meets <see cref="AlertRate"/> over the entities' active days.</summary>
    public double PerActiveDayRate { get; init; }

    /// <summary>The evaluated period day by day (UTC): normal users active and alerted, anomalous users and recall.</summary>
    [JsonPropertyName("per_day")]
    public IReadOnlyList<DayMetrics> PerDay { get; init; } = [];

    /// <summary>Users left out of both classes: labelled anomalous events before the evaluated period and none in it (their
    /// state at the period's start was built on the attack; neither clean normal users nor in-period attackers).</summary>
    public int PastAttackers { get; init; }

    /// <summary>Of <see cref="PastAttackers"/>, those whose first scored window still held an anomalous entry.</summary>
    public int PastAttackersInWindow { get; init; }

    /// <summary>How many normal validation entity-days the threshold was fitted on (0 when a given threshold or the
    /// detector's own rule, not the wanted rate, decides).</summary>
    public long CalibrationEntityDays { get; init; }

    /// <summary>How many of the <see cref="CalibrationEntityDays"/> the per-active-day target stands for (rate x sample size).
    /// Below 1 the target is finer than the sample resolves and the threshold is extrapolated beyond its largest value; a
    /// few means the threshold rests on the sample's few highest values, and the measured rate varies with them.</summary>
    public double CalibrationEntityDaysAtTarget => PerActiveDayRate * CalibrationEntityDays;

    /// <summary>Measured normal alert rate over the target (1 = on target; NaN without normal entities).</summary>
    public double AlertRateRatio => NormalUserAlertRate / AlertRate;
}
