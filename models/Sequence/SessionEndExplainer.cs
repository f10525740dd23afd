using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Sequence;

/// <summary>What the next-event models say about a session end marker: how its surprise counts and why it was
/// (un)expected.</summary>
internal static class SessionEndExplainer
{
    /// <summary>
    /// The surprise of one entry: the type's, plus the gap's times <paramref name="gapWeight"/>, except for an end
    /// marker, whose gap to its session's last event is always zero and carries nothing (the type's alone: the
    /// surprise of ending there). A marker under a vocabulary without the end token (a model file older than
    /// sessions) is not scored (NaN: the verdict is the previous events').
    /// </summary>
    public static float Surprise(EventTokenizer tokenizer, double typeSurprise, double gapSurprise, double gapWeight, long typeToken, double unknownSurprise)
    {
        var vocabulary = tokenizer.Vocabulary;
        if (vocabulary.HasEndToken && typeToken == vocabulary.EndToken) return (float)typeSurprise;
        double type = typeToken == EventVocabulary.UnknownToken ? Math.Max(typeSurprise, unknownSurprise) : typeSurprise;
        return (float)(type + gapWeight * gapSurprise);
    }

    /// <summary>Whether a window entry is an end marker that this model cannot score (its vocabulary has no end token).</summary>
    public static bool Unscorable(EventTokenizer tokenizer, in WindowEntry entry) =>
        !tokenizer.Vocabulary.HasEndToken && SessionRule.IsEndMarker(entry);

    /// <summary>The reason for a verdict on the end marker at <paramref name="index"/> of <paramref name="window"/>.</summary>
    /// <param name="endProbability">The model's probability of the end token there.</param>
    /// <param name="expected">The model's top-k next events there.</param>
    public static SessionEndReason Reason(EventTokenizer tokenizer, ReadOnlySpan<WindowEntry> window, int index, double endProbability,
        IReadOnlyList<ExpectedEvent> expected)
    {
        string? after = index > 0 && !SessionRule.IsEndMarker(window[index - 1]) ? window[index - 1].Type : null;
        return new SessionEndReason(after, endProbability, expected, tokenizer.SessionEndsAfter);
    }
}
