using StreamDetect.Models.Detection;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Sequence;

/// <summary>The k most likely next types of one next-event prediction, as the sequence models explain them.</summary>
public static class TopKPrediction
{
    /// <summary>The k most likely types of one prediction (most likely first) and whether the actual type is outside them.</summary>
    /// <param name="logProbabilities">Log-probability of each vocabulary token.</param>
    /// <param name="actual">The token that happened.</param>
    /// <param name="k">How many to keep (at most the vocabulary's size).</param>
    /// <param name="vocabulary">Names the tokens.</param>
    public static (bool OutsideTopK, ExpectedEvent[] Expected) Of(ReadOnlySpan<float> logProbabilities, long actual, int k, EventVocabulary vocabulary)
    {
        Span<int> best = stackalloc int[k];
        int count = 0;
        for (int t = 0; t < logProbabilities.Length; t++)
        {
            float v = logProbabilities[t];
            int at = count < k ? count++ : k;
            if (at == k)
            {
                if (v <= logProbabilities[best[k - 1]]) continue;
                at = k - 1;
            }
            while (at > 0 && logProbabilities[best[at - 1]] < v)
            {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = t;
        }
        var expected = new ExpectedEvent[count];
        bool inside = false;
        for (int e = 0; e < count; e++)
        {
            expected[e] = new ExpectedEvent(vocabulary.NameOf(best[e]), Math.Exp(logProbabilities[best[e]]));
            inside |= best[e] == actual;
        }
        return (!inside, expected);
    }
}
