namespace StreamDetect.Models.Evaluation;

/// <summary>The scored entry that gave a user its highest score in an evaluation: what it was and what each member said of it.</summary>
/// <param name="Type">The entry's event type (<c>&lt;end&gt;</c> for a session end marker).</param>
/// <param name="TimestampMs">The entry's time (Unix ms).</param>
/// <param name="Members">Each ensemble member's calibrated score of the entry, by member name (empty for a single model).</param>
public sealed record UserScoreSource(string Type, long TimestampMs, IReadOnlyDictionary<string, double> Members);
