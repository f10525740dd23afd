using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// Turns a user's <see cref="SurpriseRing"/> into the unexpected events of an explanation: the most surprising events
/// still in the window as of the event judged now, with top-k details for that event itself (the others were judged
/// as of themselves, in their own verdicts). Shared by the recurrent and Transformer next-event detectors.
/// </summary>
internal static class SurpriseRingExplainer
{
    /// <param name="ring">The user's ring right after the judged event's surprise was pushed.</param>
    /// <param name="top">Scratch for the top positions; its length is how many events are listed at most.</param>
    /// <param name="asOf">The window up to and including the judged event (its last entry).</param>
    /// <param name="typeLogProbabilities">The prediction that judged the last event: log-probability of each token.</param>
    /// <param name="actualType">The last event's type token.</param>
    /// <param name="k">Top-k of the details.</param>
    /// <param name="vocabulary">Names the expected tokens.</param>
    public static List<UnexpectedEvent> UnexpectedEvents(ReadOnlySpan<float> ring, Span<int> top, ReadOnlySpan<WindowEntry> asOf,
        ReadOnlySpan<float> typeLogProbabilities, long actualType, int k, EventVocabulary vocabulary)
    {
        int count = SurpriseRing.TopPositions(ring, top), judged = asOf.Length - 1;
        var unexpected = new List<UnexpectedEvent>(count);
        for (int q = 0; q < count; q++)
        {
            int index = asOf.Length - ring.Length + top[q];
            if (index < 0) continue;
            var entry = asOf[index];
            bool? outside = null;
            IReadOnlyList<ExpectedEvent> expected = [];
            if (index == judged) (outside, expected) = TopKPrediction.Of(typeLogProbabilities, actualType, k, vocabulary);
            unexpected.Add(new UnexpectedEvent(index, entry.TimestampMs, entry.Type, ring[top[q]], outside, expected));
        }
        return unexpected;
    }
}
