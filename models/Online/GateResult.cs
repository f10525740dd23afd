namespace StreamDetect.Models.Online;

/// <summary>One promotion gate's figure for a candidate: its value, the bound it was held to, and whether it passed
/// (the registry stores the list as JSON: {gate, value, bound, passed}).</summary>
/// <param name="Gate">recent-normal-loss, anchor-loss or canary-recall.</param>
public sealed record GateResult(string Gate, double Value, double Bound, bool Passed)
{
    /// <summary>How the figure was reached, for the log and the registry's reason (e.g. the canary gate's
    /// "lost 14, gained 0 of 100, P 6.1e-05"); not part of the stored gate list.</summary>
    public string? Note { get; init; }

    /// <summary>The list as the registry stores it: [{"gate", "value", "bound", "passed"}], a figure that could not be
    /// measured (NaN) as null.</summary>
    public static string ToJson(IEnumerable<GateResult> results) =>
        System.Text.Json.JsonSerializer.Serialize(results.Select(r => new
        {
            gate = r.Gate,
            value = double.IsFinite(r.Value) ? r.Value : (double?)null,
            bound = double.IsFinite(r.Bound) ? r.Bound : (double?)null,
            passed = r.Passed,
        }));
}
