using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Tests.Support;

/// <summary>Compares explanations field by field: the same events, features and members, numbers within a tolerance.</summary>
internal static class ExplanationAssert
{
    /// <summary>
    /// Asserts that two explanations list the same things. Events are compared by what they are (time, type),
    /// not by <see cref="UnexpectedEvent.WindowIndex"/>: an index points into its own input's window, and a
    /// window with several new events starts earlier than a one-event window.
    /// </summary>
    public static void Same(Explanation expected, Explanation actual, double tolerance, string where)
    {
        Assert.True(expected.Model == actual.Model, $"{where}: model {actual.Model}, expected {expected.Model}");
        Near(expected.RawScore, actual.RawScore, tolerance, $"{where}: raw score");
        Assert.True(expected.UnexpectedEvents.Count == actual.UnexpectedEvents.Count,
            $"{where}: {actual.UnexpectedEvents.Count} unexpected events, expected {expected.UnexpectedEvents.Count}");
        for (int q = 0; q < expected.UnexpectedEvents.Count; q++)
        {
            var e = expected.UnexpectedEvents[q];
            var a = actual.UnexpectedEvents[q];
            Assert.True((e.TimestampMs, e.Type, e.OutsideTopK) == (a.TimestampMs, a.Type, a.OutsideTopK),
                $"{where}: unexpected event {q} is ({a.TimestampMs}, {a.Type}, {a.OutsideTopK}), expected ({e.TimestampMs}, {e.Type}, {e.OutsideTopK})");
            Near(e.Surprise, a.Surprise, tolerance, $"{where}: surprise of unexpected event {q}");
            Assert.Equal(e.Expected.Select(x => x.Type), a.Expected.Select(x => x.Type));
            for (int t = 0; t < e.Expected.Count; t++) Near(e.Expected[t].Probability, a.Expected[t].Probability, tolerance, $"{where}: expected {t}");
        }
        Assert.True(expected.Features.Select(f => f.Feature).SequenceEqual(actual.Features.Select(f => f.Feature)),
            $"{where}: features [{string.Join(", ", actual.Features.Select(f => f.Feature))}], expected [{string.Join(", ", expected.Features.Select(f => f.Feature))}]");
        for (int j = 0; j < expected.Features.Count; j++)
        {
            Assert.Equal(expected.Features[j].Value, actual.Features[j].Value);
            Near(expected.Features[j].Share, actual.Features[j].Share, tolerance, $"{where}: share of {expected.Features[j].Feature}");
        }
        Assert.Equal(expected.Members.Count, actual.Members.Count);
        for (int m = 0; m < expected.Members.Count; m++)
        {
            Near(expected.Members[m].Score, actual.Members[m].Score, tolerance, $"{where}: member {expected.Members[m].Model}");
            Same(expected.Members[m].Explanation, actual.Members[m].Explanation, tolerance, $"{where} / {expected.Members[m].Model}");
        }
    }

    public static void Near(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance || (double.IsNaN(expected) && double.IsNaN(actual)),
            $"{what}: {actual:R}, expected {expected:R} (difference {Math.Abs(expected - actual):E2}, tolerance {tolerance:E0})");
}
