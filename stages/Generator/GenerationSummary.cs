using System.Globalization;
using System.Text;

namespace StreamDetect.Stages.Generator;

/// <summary>What one generation run wrote.</summary>
/// <param name="Events">Events written.</param>
/// <param name="AnomalousEvents">Events with label 1.</param>
/// <param name="Bytes">Bytes of JSON Lines written.</param>
/// <param name="Users">Simulated users (including those without events in the period).</param>
/// <param name="AnomalousUsersByScenario">Anomalous users per scenario.</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record GenerationSummary(
    long Events, long AnomalousEvents, long Bytes, int Users, IReadOnlyDictionary<string, int> AnomalousUsersByScenario, TimeSpan Elapsed)
{
    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? Events / Elapsed.TotalSeconds : 0;

    /// <summary>A short multi-line report for a terminal.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        int anomalousUsers = AnomalousUsersByScenario.Values.Sum();
        text.Append(c, $"generated {Events:N0} events ({AnomalousEvents:N0} labelled anomalous), {Bytes / (1024.0 * 1024.0):N1} MiB, ")
            .Append(c, $"{Users:N0} users ({anomalousUsers:N0} anomalous) in {Elapsed.TotalSeconds:N1} s, {EventsPerSecond:N0} events/s");
        // The slow poisoners are listed only when there are any (poisoning on).
        string[] listed = [.. Scenarios.Anomalous, .. Scenarios.Poisoning.Where(AnomalousUsersByScenario.ContainsKey)];
        int width = Math.Max(18, listed.Max(s => s.Length));
        foreach (string scenario in listed)
        {
            text.AppendLine().Append("  ").Append(scenario.PadRight(width)).Append(c, $" {AnomalousUsersByScenario.GetValueOrDefault(scenario),7:N0} users");
        }
        return text.ToString();
    }
}
