namespace StreamDetect.Models.Online;

/// <summary>One promotion gate's figure for a candidate: its value, the bound it was held to, and whether it passed
/// (the registry stores the list as JSON: {gate, value, bound, passed}).</summary>
/// <param name="Gate">recent-normal-loss, anchor-loss or canary-recall.</param>
public sealed record GateResult(string Gate, double Value, double Bound, bool Passed);
