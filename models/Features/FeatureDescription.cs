using System.Globalization;

namespace StreamDetect.Models.Features;

/// <summary>
/// What one feature of the <see cref="FeatureSchema"/> means in plain terms, its unit, and how to get its raw
/// value back from the vector's model scale (log1p for counts, durations and amounts).
/// </summary>
/// <param name="Name">The schema name, e.g. <c>count_refund_1m</c>.</param>
/// <param name="Meaning">Plain words, e.g. "refunds in the last minute".</param>
/// <param name="Unit">What the raw value counts or measures.</param>
/// <param name="UnitText">The unit in words, e.g. "events (time-decayed count)".</param>
/// <param name="LogScaled">Whether the vector holds log(1 + raw) (so raw = e^value - 1).</param>
public sealed record FeatureDescription(string Name, string Meaning, FeatureUnit Unit, string UnitText, bool LogScaled)
{
    /// <summary>The raw value (events, seconds, amount, share...) of a feature-vector value.</summary>
    public double Raw(double value) => LogScaled ? Math.Exp(value) - 1 : value;

    /// <summary>A raw value for people: "1", "2.6", "45 s", "3.2 h", "35%", "yes", "129.00".</summary>
    public string Format(double raw)
    {
        var c = CultureInfo.InvariantCulture;
        return Unit switch
        {
            FeatureUnit.Count => Math.Abs(raw - Math.Round(raw)) < 0.05 ? Math.Round(raw).ToString("0", c) : raw.ToString("0.#", c),
            FeatureUnit.Seconds => raw switch
            {
                < 60 => raw.ToString("0.#", c) + " s",
                < 3600 => (raw / 60).ToString("0.#", c) + " min",
                < 86400 => (raw / 3600).ToString("0.#", c) + " h",
                _ => (raw / 86400).ToString("0.#", c) + " days",
            },
            FeatureUnit.Share => (raw * 100).ToString("0.#", c) + "%",
            FeatureUnit.Flag => raw >= 0.5 ? "yes" : "no",
            FeatureUnit.Amount => raw.ToString("0.00", c),
            _ => raw.ToString("0.###", c),
        };
    }
}
