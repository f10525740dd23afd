using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Tests.Sessions;

/// <summary>The session API of <see cref="UserBehaviorState"/>: where a session closes, its one end marker, the entry count
/// and the snapshot layout that keeps it.</summary>
public sealed class UserBehaviorStateSessionTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private static readonly SessionRule Rule = new(SessionSettings.Default);
    private const long Minute = 60_000;

    /// <summary>Folds <paramref name="e"/> the way the contract says a caller does; returns the markers appended.</summary>
    private static int Fold(UserBehaviorState s, UserEvent e)
    {
        int markers = 0;
        if (s.ClosesSessionBefore(e, Rule) && s.CloseSession()) markers++;
        s.Apply(e);
        if (Rule.EndsSession(e.Type) && s.CloseSession()) markers++;
        return markers;
    }

    private static string[] Types(UserBehaviorState s) => [.. s.Window.ToArray().Select(e => e.Type)];

    [Fact]
    public void A_gap_longer_than_the_setting_closes_the_session_before_the_next_event()
    {
        var s = new UserBehaviorState();
        Fold(s, new UserEvent("u", T0, "login"));
        Fold(s, new UserEvent("u", T0 + 29 * Minute, "view"));
        Assert.False(s.ClosesSessionBefore(new UserEvent("u", T0 + 59 * Minute, "view"), Rule));
        var late = new UserEvent("u", T0 + 59 * Minute + 1, "view");
        Assert.True(s.ClosesSessionBefore(late, Rule));

        Assert.Equal(1, Fold(s, late));
        Assert.Equal(["login", "view", EventTypes.SessionEnd, "view"], Types(s));
        Assert.Equal(T0 + 29 * Minute, s.Window[2].TimestampMs);
        Assert.True(SessionRule.IsEndMarker(s.Window[2]));
        Assert.True(float.IsNaN(s.Window[2].Amount));
        Assert.True(s.SessionOpen);
    }

    [Fact]
    public void A_logout_closes_the_session_right_after_itself_and_only_once()
    {
        var s = new UserBehaviorState();
        Fold(s, new UserEvent("u", T0, "login"));
        Assert.Equal(1, Fold(s, new UserEvent("u", T0 + Minute, "logout")));
        Assert.False(s.SessionOpen);
        Assert.Null(s.SessionField);

        // The gap that follows does not close it a second time, nor does the end of the input.
        var next = new UserEvent("u", T0 + 300 * Minute, "login");
        Assert.False(s.ClosesSessionBefore(next, Rule));
        Assert.False(s.CloseSession());
        Assert.Equal(0, Fold(s, next));
        Assert.True(s.CloseSession());
        Assert.False(s.CloseSession());
        Assert.Equal(["login", "logout", EventTypes.SessionEnd, "login", EventTypes.SessionEnd], Types(s));
    }

    [Fact]
    public void A_change_of_the_session_field_closes_the_session_and_a_missing_field_does_not()
    {
        var s = new UserBehaviorState();
        Fold(s, new UserEvent("u", T0, "login") { Session = "s-1" });
        Assert.Equal("s-1", s.SessionField);
        Assert.Equal(0, Fold(s, new UserEvent("u", T0 + Minute, "view") { Session = "s-1" }));
        Assert.Equal(0, Fold(s, new UserEvent("u", T0 + 2 * Minute, "view")));
        Assert.Null(s.SessionField);
        Assert.Equal(0, Fold(s, new UserEvent("u", T0 + 3 * Minute, "view") { Session = "s-1" }));
        Assert.Equal(1, Fold(s, new UserEvent("u", T0 + 4 * Minute, "view") { Session = "s-2" }));
        Assert.Equal("s-2", s.SessionField);
        Assert.Equal(["login", "view", "view", "view", EventTypes.SessionEnd, "view"], Types(s));

        var noSplit = new SessionRule(SessionSettings.Default with { SplitOnSessionField = false });
        Assert.False(s.ClosesSessionBefore(new UserEvent("u", T0 + 5 * Minute, "view") { Session = "s-3" }, noSplit));
    }

    [Fact]
    public void The_entry_count_counts_events_and_markers_and_markers_change_no_feature()
    {
        var withMarkers = new UserBehaviorState();
        var plain = new UserBehaviorState();
        var events = new[]
        {
            new UserEvent("u", T0, "login") { Item = "a" },
            new UserEvent("u", T0 + Minute, "logout"),
            new UserEvent("u", T0 + 90 * Minute, "login") { Item = "b" },
            new UserEvent("u", T0 + 91 * Minute, "view") { Item = "b", Amount = 3 },
        };
        foreach (var e in events)
        {
            Fold(withMarkers, e);
            plain.Apply(e);
            Assert.Equal(plain.Features(), withMarkers.Features());
        }
        withMarkers.CloseSession();
        Assert.Equal(plain.Features(), withMarkers.Features());

        Assert.Equal(4, withMarkers.EventCount);
        Assert.Equal(6, withMarkers.EntryCount);
        Assert.Equal(withMarkers.Window.Count, withMarkers.EntryCount);
        Assert.Equal(4, plain.EntryCount);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_snapshot_round_trips_an_open_and_a_closed_session(bool closeLast)
    {
        var s = new UserBehaviorState(windowCapacity: 8);
        Fold(s, new UserEvent("u", T0, "login") { Session = "s-1" });
        Fold(s, new UserEvent("u", T0 + Minute, "logout") { Session = "s-1" });
        Fold(s, new UserEvent("u", T0 + 2 * Minute, "login") { Session = "s-2" });
        if (closeLast) s.CloseSession();

        var copy = RoundTrip(s);

        Assert.Equal(s.Window.ToArray(), copy.Window.ToArray());
        Assert.Equal(s.EntryCount, copy.EntryCount);
        Assert.Equal(!closeLast, copy.SessionOpen);
        Assert.Equal(closeLast ? null : "s-2", copy.SessionField);
        Assert.Equal(s.Features(), copy.Features());

        // The copy closes (or not) exactly like the original afterwards.
        var next = new UserEvent("u", T0 + 3 * Minute, "view") { Session = "s-3" };
        Assert.Equal(Fold(s, next), Fold(copy, next));
        Assert.Equal(s.Window.ToArray(), copy.Window.ToArray());
        Assert.Equal(s.EntryCount, copy.EntryCount);
    }

    [Fact]
    public void A_snapshot_of_layout_1_is_still_read_with_its_last_session_open()
    {
        var s = new UserBehaviorState(windowCapacity: 8);
        s.Apply(new UserEvent("u", T0, "login"));
        s.Apply(new UserEvent("u", T0 + Minute, "view"));
        byte[] current = Write(s);
        // Layout 1 is layout 2 without the session tail: 8 bytes of markers, the open flag, the field-present flag.
        byte[] layout1 = current[..^10];
        layout1[0] = 1;

        var copy = UserBehaviorState.ReadFrom(new BinaryReader(new MemoryStream(layout1)));

        Assert.Equal(2, copy.EntryCount);
        Assert.True(copy.SessionOpen);
        Assert.Null(copy.SessionField);
        Assert.Equal(s.Features(), copy.Features());
        Assert.True(copy.CloseSession());
        Assert.Equal(3, copy.EntryCount);
    }

    private static byte[] Write(UserBehaviorState s)
    {
        var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) s.WriteTo(writer);
        return buffer.ToArray();
    }

    private static UserBehaviorState RoundTrip(UserBehaviorState s) =>
        UserBehaviorState.ReadFrom(new BinaryReader(new MemoryStream(Write(s))));
}
