using System.Globalization;

namespace StreamDetect.Models.Detection;

/// <summary>
/// Why a session's end was unexpected, for a verdict on a session end marker: the event the session ended after,
/// the model's probability of ending there, the events it expected next instead, and the events after which
/// normal (training) sessions end.
/// </summary>
/// <param name="EndedAfter">The type of the session's last event (null when it is not in the window).</param>
/// <param name="EndProbability">The model's probability that the session ends right there.</param>
/// <param name="Expected">The model's most likely next events at that point, most likely first (may hold the end itself, as <c>&lt;end&gt;</c>).</param>
/// <param name="NormalEndsAfter">Event types after which training sessions ended most often, most frequent first (empty when unknown).</param>
public sealed record SessionEndReason(
    string? EndedAfter,
    double EndProbability,
    IReadOnlyList<ExpectedEvent> Expected,
    IReadOnlyList<string> NormalEndsAfter)
{
    /// <summary>One line, e.g. "session ended after address_change; normal sessions end after purchase, logout;
    /// expected next: purchase (p 0.61), view (p 0.20) (p of ending here 0.002)".</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder("session ended");
        if (EndedAfter is not null) text.Append(" after ").Append(EndedAfter);
        if (NormalEndsAfter.Count > 0) text.Append("; normal sessions end after ").Append(string.Join(", ", NormalEndsAfter));
        var next = Expected.Where(e => e.Type != Events.EventTypes.SessionEnd).ToArray();
        if (next.Length > 0)
            text.Append("; expected next: ").Append(string.Join(", ", next.Select(e => $"{e.Type} (p {Round(e.Probability)})")));
        text.Append(" (p of ending here ").Append(Round(EndProbability)).Append(')');
        return text.ToString();
    }

    private static string Round(double p) => p.ToString(p >= 0.001 ? "0.###" : "0.#e0", CultureInfo.InvariantCulture);
}
