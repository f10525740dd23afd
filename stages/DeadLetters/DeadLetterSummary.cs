namespace StreamDetect.Stages.DeadLetters;

/// <summary>How many records were rejected, in total and per reason code.</summary>
public sealed record DeadLetterSummary(long Total, IReadOnlyDictionary<string, long> ByReason)
{
    public static DeadLetterSummary Empty { get; } = new(0, new Dictionary<string, long>());

    /// <summary>"malformed_json 400, missing_field 300" (most frequent first).</summary>
    public string Describe() => string.Join(", ", ByReason.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"));
}
