using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Tests.Support;

namespace StreamDetect.Models.Tests.Sequence;

/// <summary>
/// A recurrent model whose state is missing rebuilds it from a window that no longer starts at the user's first
/// event: the oldest entries are predicted from a zero state with little context, which training never scores
/// (it takes the loss only after burn-in events of context). Their surprises must not enter the score: at the
/// start of every `eval --skip-days` they put normal users' scores above attackers'.
/// </summary>
public sealed class RebuiltStateTests(TrainedDetectors trained)
{
    public static TheoryData<string> SequenceModels => new() { "lstm", "gru", "transformer" };

    [Theory]
    [MemberData(nameof(SequenceModels))]
    public void A_rebuilt_window_leaves_out_the_entries_predicted_with_less_context_than_training_burn_in(string model)
    {
        var detector = trained.Get(model);
        var models = TrainedDetectors.Options.Models;
        var (burnIn, unknownSurprise) = model switch
        {
            "lstm" => (models.For(RecurrentNextEventDetector.LstmKind).BurnIn, models.For(RecurrentNextEventDetector.LstmKind).UnknownSurprise),
            "gru" => (models.For(RecurrentNextEventDetector.GruKind).BurnIn, models.For(RecurrentNextEventDetector.GruKind).UnknownSurprise),
            _ => (models.For(TransformerNextEventDetector.Kind).BurnIn, models.For(TransformerNextEventDetector.Kind).UnknownSurprise),
        };
        Assert.True(burnIn > 6, "the planted entry must lie inside the burn-in");
        var input = MidHistoryInput();

        // A type never seen in training costs at least unknown-surprise (15 nats) wherever it counts. The rebuilt
        // state (recurrent) or blocks (transformer: it counted while warmup-skip was 4) start at the window's start:
        // the entry at 6 is predicted with 6 events of context, fewer than burn-in; the one at burn-in + 4 with enough.
        double withinBurnIn = detector.ScoreBatch([WithUnknownAt(input, 6)])[0].RawScoreAt(0);
        double afterBurnIn = detector.ScoreBatch([WithUnknownAt(input, burnIn + 4)])[0].RawScoreAt(0);

        Assert.True(withinBurnIn < unknownSurprise,
            $"{model}: an entry with 6 events of context after the rebuild counted ({withinBurnIn:F2} nats)");
        Assert.True(afterBurnIn >= unknownSurprise,
            $"{model}: an entry with {burnIn + 4} events of context did not count ({afterBurnIn:F2} nats)");
    }

    [Fact]
    public void The_transformers_rebuild_skip_is_never_below_its_burn_in()
    {
        Assert.Equal(8, new TransformerHyperParameters { WarmupSkip = 4, BurnIn = 8 }.RebuildSkip);
        Assert.Equal(12, new TransformerHyperParameters { WarmupSkip = 12, BurnIn = 8 }.RebuildSkip);
        Assert.True(new TransformerHyperParameters().WarmupSkip >= new TransformerHyperParameters().BurnIn);
    }

    /// <summary>One new event of a user whose window (32 entries, the last one new, no kept state) starts after its first event,
    /// every entry a minute apart so that all are within the surprise horizon.</summary>
    private ScoringInput MidHistoryInput()
    {
        var user = trained.Data.Users.Where(u => !u.HasPositiveLabel()).MaxBy(u => u.Count)!;
        var sample = user.Replay(32).Last();
        var input = sample.ToScoringInput(null);
        Assert.False(input.WindowStartsAtUserStart);
        Assert.Equal(1, input.NewEvents);
        long newest = input.Window[^1].TimestampMs;
        var window = input.Window.Select((e, i) => new WindowEntry(e.Type, newest - (input.Window.Length - 1 - i) * 60_000L, e.Amount, e.ItemHash, e.CategoryHash)).ToArray();
        return input with { Window = window };
    }

    private static ScoringInput WithUnknownAt(ScoringInput input, int index)
    {
        var window = input.Window.ToArray();
        var e = window[index];
        window[index] = new WindowEntry("never_seen_in_training", e.TimestampMs, e.Amount, e.ItemHash, e.CategoryHash);
        return input with { Window = window };
    }
}
