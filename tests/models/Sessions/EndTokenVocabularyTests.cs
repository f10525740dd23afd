using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Tests.Sessions;

/// <summary>The tokenizer's view of session ends: the end token in every learned vocabulary, the types after which
/// training sessions end, and tokenizers of model files older than sessions.</summary>
public sealed class EndTokenVocabularyTests
{
    private static WindowEntry Entry(string type, long t) => new(type, t, float.NaN, 0, 0);

    private static WindowEntry[] Session(long t, params string[] types) =>
        [.. types.Select((type, i) => Entry(type, t + i * 1000)), SessionRule.EndMarker(t + (types.Length - 1) * 1000)];

    [Fact]
    public void The_types_after_which_sessions_end_are_counted_most_frequent_first_and_at_most_three()
    {
        WindowEntry[][] users =
        [
            [.. Session(0, "login", "logout"), .. Session(10_000, "login", "purchase"), .. Session(20_000, "login", "logout")],
            [.. Session(0, "login", "view"), .. Session(10_000, "login", "logout"), .. Session(20_000, "search")],
        ];
        var tokenizer = EventTokenizer.Learn(users);
        Assert.Equal(["logout", "purchase", "search"], tokenizer.SessionEndsAfter);
        Assert.NotEqual(EventVocabulary.UnknownToken, tokenizer.Vocabulary.TokenOf(EventTypes.SessionEnd));
        // The end marker is the most frequent entry here, so it gets the first learned token.
        Assert.Equal(2, tokenizer.Vocabulary.EndToken);
    }

    [Fact]
    public void A_tokenizer_round_trips_and_one_written_before_sessions_reads_with_no_session_ends()
    {
        var tokenizer = EventTokenizer.Learn([[.. Session(0, "login", "logout")]]);
        var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) tokenizer.WriteTo(w);
        var copy = EventTokenizer.ReadFrom(new BinaryReader(new MemoryStream(buffer.ToArray())));
        Assert.Equal(tokenizer.Vocabulary.Types, copy.Vocabulary.Types);
        Assert.Equal(["logout"], copy.SessionEndsAfter);

        // An older file: the vocabulary and the amount buckets only (here without the end token either).
        var old = new MemoryStream();
        using (var w = new BinaryWriter(old, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(2);
            w.Write("login");
            w.Write("logout");
            tokenizer.Amounts.WriteTo(w);
        }
        var read = EventTokenizer.ReadFrom(new BinaryReader(new MemoryStream(old.ToArray())));
        Assert.Empty(read.SessionEndsAfter);
        Assert.False(read.Vocabulary.HasEndToken);
        Assert.Equal(EventVocabulary.UnknownToken, read.Vocabulary.EndToken);
    }
}
