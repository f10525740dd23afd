namespace StreamDetect.Engine.Registry;

/// <summary>
/// One gate a version went through before promotion, as stored (column <c>gates</c>, a JSON list of
/// <c>{"gate","value","bound","passed"}</c>): e.g. the anchor-set loss against its bound.
/// </summary>
public sealed record RecordedGate(string Gate, double Value, double Bound, bool Passed);
