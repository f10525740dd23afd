using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Tests.Sessions;

/// <summary>
/// Datasets hold the end markers of sessions where the stream's rule closes them (gap, end type, session field, end of
/// the input), the same on every build, the same as a stream folding the events through the session API.
/// </summary>
public sealed class SessionDatasetTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private const long Minute = 60_000;
    private const string End = EventTypes.SessionEnd;

    /// <summary>u1: a logout, then a gap, then a change of session field, then the end of the input; u2: one open session.</summary>
    private static List<UserEvent> Events() =>
    [
        new("u1", T0, "login") { Session = "a" },
        new("u2", T0 + Minute, "login"),
        new("u1", T0 + 2 * Minute, "logout") { Session = "a" },
        new("u1", T0 + 10 * Minute, "login") { Session = "b" },
        new("u1", T0 + 11 * Minute, "view") { Session = "b", Label = 1 },
        new("u2", T0 + 12 * Minute, "view"),
        new("u1", T0 + 80 * Minute, "view") { Session = "b" },  // 69 min after the last: the gap closes "b" first
        new("u1", T0 + 81 * Minute, "view") { Session = "c" },  // a new session field closes the previous session
        new("u1", T0 + 82 * Minute, "cart") { Session = "c" },
    ];

    private static BehaviorDataset Build(IEnumerable<UserEvent> events) => DatasetBuilder.Build(events, 8, SessionSettings.Default);

    private static string[] Types(UserSequence user) => [.. user.Entries.Select(e => e.Type)];

    [Fact]
    public void Markers_sit_after_a_logout_before_a_gap_and_a_new_session_field_and_at_the_end_of_the_input()
    {
        var data = Build(Events());
        var u1 = data.Users.Single(u => u.UserId == "u1");
        Assert.Equal(["login", "logout", End, "login", "view", End, "view", End, "view", "cart", End], Types(u1));
        Assert.Equal(7, u1.EventCount);
        Assert.Equal(4, u1.MarkerCount);
        // A marker has its session's last event's time.
        Assert.Equal([T0 + 2 * Minute, T0 + 11 * Minute, T0 + 80 * Minute, T0 + 82 * Minute],
            Enumerable.Range(0, u1.Count).Where(u1.IsEndMarker).Select(u1.TimestampMs));

        var u2 = data.Users.Single(u => u.UserId == "u2");
        Assert.Equal(["login", "view", End], Types(u2));
        Assert.Equal(9, data.EventCount);
        Assert.Equal(9 + 5, data.EntryCount);
    }

    [Fact]
    public void Without_a_session_rule_there_are_no_markers()
    {
        var data = DatasetBuilder.Build(Events(), 8);
        Assert.DoesNotContain(data.Users.SelectMany(u => u.Entries), e => SessionRule.IsEndMarker(e));
        Assert.Equal(data.EventCount, data.EntryCount);
    }

    [Fact]
    public void Two_builds_of_the_same_events_put_the_same_markers_in_the_same_places_even_in_another_file_order()
    {
        var first = Build(Events());
        var second = Build(Enumerable.Reverse(Events()).OrderBy(e => e.TimestampMs));
        foreach (var user in first.Users)
        {
            var other = second.Users.Single(u => u.UserId == user.UserId);
            Assert.Equal(user.Entries, other.Entries);
            Assert.Equal(user.Replay(8).Select(s => s.Window), other.Replay(8).Select(s => s.Window));
        }
    }

    [Fact]
    public void The_dataset_matches_a_stream_that_folds_the_events_through_the_session_api()
    {
        var rule = new SessionRule(SessionSettings.Default);
        var data = Build(Events());
        foreach (var user in data.Users)
        {
            // What a stream does, per the contract: close before, fold, close after an end type; close at the end.
            var stream = new UserBehaviorState(64);
            foreach (var e in Events().Where(e => e.UserId == user.UserId))
            {
                if (stream.ClosesSessionBefore(e, rule)) stream.CloseSession();
                stream.Apply(e);
                if (rule.EndsSession(e.Type)) stream.CloseSession();
            }
            stream.CloseSession();

            Assert.Equal(stream.Window.ToArray(), user.Entries);
            var replay = user.StartReplay(64);
            while (replay.HasNext) replay.Advance();
            var last = replay.Sample();
            Assert.Equal(stream.EntryCount, last.EventCount);
            Assert.Equal(stream.Features(), last.Features);
            Assert.True(last.IsEndMarker);
        }
    }

    [Fact]
    public void A_replay_scores_markers_as_entries_whose_input_keeps_the_window_contract()
    {
        var data = Build(Events());
        var u1 = data.Users.Single(u => u.UserId == "u1");
        var input = u1.StartReplay(8).AdvanceAsInput(u1.Count);
        input.Validate();
        Assert.Equal(u1.Count, input.NewEvents);
        Assert.True(input.WindowStartsAtUserStart);
        Assert.Equal(u1.Entries, input.Window);
        // A marker's feature row is the user's state at its session's end: that of the session's last event.
        Assert.Equal(input.FeaturesAt(1).ToArray(), input.FeaturesAt(2).ToArray());
    }

    [Fact]
    public void A_marker_carries_its_sessions_label()
    {
        var u1 = Build(Events()).Users.Single(u => u.UserId == "u1");
        int[] markerLabels = [.. Enumerable.Range(0, u1.Count).Where(u1.IsEndMarker).Select(u1.LabelAt)];
        Assert.Equal([0, 1, 0, 0], markerLabels);
        Assert.Equal([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], Enumerable.Range(0, u1.Count).Select(u1.LabelAt));
    }

    [Fact]
    public void The_end_of_a_training_period_closes_the_sessions_open_at_the_cut()
    {
        var cut = Build(Events()).Before(T0 + 11 * Minute);
        var u1 = cut.Users.Single(u => u.UserId == "u1");
        Assert.Equal(["login", "logout", End, "login", End], Types(u1));
    }
}
