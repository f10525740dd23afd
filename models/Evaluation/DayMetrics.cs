using System.Text.Json.Serialization;

namespace StreamDetect.Models.Evaluation;

/// <summary>
/// One UTC day of an evaluation (<see cref="EvaluationReport.PerDay"/>): how many normal users were active and how
/// many of them alerted, how many users did something anomalous that day and how many of those alerted. This is
/// where a drift shows (the normal alert rate of the days after a release) and where online learning must show that
/// it brings the rate back without losing recall.
/// </summary>
/// <param name="Day">Days after midnight UTC of the data's first event (the generator's day numbers; <c>--skip-days</c> counts the same way).</param>
/// <param name="Date">The day, as yyyy-MM-dd (UTC).</param>
/// <param name="NormalUsers">Normal users (truth "normal") with at least one evaluated event that day.</param>
/// <param name="NormalUsersAlerted">Of those, the users with at least one event at or above the threshold that day.</param>
/// <param name="AnomalousUsers">Users with at least one evaluated event labelled anomalous that day.</param>
/// <param name="AnomalousUsersAlerted">Of those, the users with at least one event at or above the threshold that day.</param>
public sealed record DayMetrics(
    [property: JsonPropertyName("day")] int Day,
    [property: JsonPropertyName("date")] string Date,
    [property: JsonPropertyName("normal_users")] int NormalUsers,
    [property: JsonPropertyName("normal_users_alerted")] int NormalUsersAlerted,
    [property: JsonPropertyName("anomalous_users")] int AnomalousUsers,
    [property: JsonPropertyName("anomalous_users_alerted")] int AnomalousUsersAlerted)
{
    /// <summary>Share of the day's active normal users that alerted (0 without any).</summary>
    [JsonPropertyName("normal_alert_rate")]
    public double NormalAlertRate => NormalUsers == 0 ? 0 : (double)NormalUsersAlerted / NormalUsers;

    /// <summary>Share of the day's anomalous users that alerted (NaN without any).</summary>
    [JsonPropertyName("recall")]
    public double Recall => AnomalousUsers == 0 ? double.NaN : (double)AnomalousUsersAlerted / AnomalousUsers;
}
