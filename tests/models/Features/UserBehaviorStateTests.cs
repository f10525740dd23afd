using StreamDetect.Models.Events;
using StreamDetect.Models.Features;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Tests.Features;

public sealed class UserBehaviorStateTests
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static IEnumerable<UserEvent> Session(string user, long start)
    {
        string[] types = ["login", "view", "view", "search", "click", "cart", "checkout", "pay_fail", "purchase", "review", "logout"];
        for (int i = 0; i < types.Length; i++)
        {
            yield return new UserEvent(user, start + i * 7_000L, types[i])
            {
                Item = $"sku-{i % 3}",
                Category = "c-1",
                Amount = types[i] is "purchase" or "pay_fail" or "checkout" ? 42.5 : null,
                Device = "ios",
                Ip = "203.0.113.9",
                Session = "s-1",
            };
        }
    }

    [Fact]
    public void The_feature_vector_has_the_schema_length_and_finite_values()
    {
        var state = new UserBehaviorState();
        foreach (var e in Session("u-1", T0)) state.Apply(e);

        float[] features = state.Features();

        Assert.Equal(FeatureSchema.Count, features.Length);
        Assert.All(features, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(11, state.EventCount);
        Assert.Equal(1f, features[FeatureSchema.IndexOf("pay_fail_streak_max")] > 0 ? 1f : 0f);
    }

    [Fact]
    public void Decayed_counts_see_a_burst_and_forget_it_over_the_horizon()
    {
        var state = new UserBehaviorState();
        for (int i = 0; i < 20; i++) state.Apply(new UserEvent("u", T0 + i * 500L, "login_fail"));
        float burst = state.Features()[FeatureSchema.IndexOf("count_login_fail_1m")];
        Assert.InRange(MathF.Exp(burst) - 1, 17f, 20f);

        state.Apply(new UserEvent("u", T0 + 3_600_000L, "view"));
        float later = state.Features()[FeatureSchema.IndexOf("count_login_fail_1m")];
        Assert.True(later < 0.01f, $"a burst an hour ago still counts {later} in the 1-minute horizon");
        float day = state.Features()[FeatureSchema.IndexOf("count_login_fail_24h")];
        Assert.True(MathF.Exp(day) - 1 > 15f, "the 24 h horizon should still remember the burst");
    }

    [Fact]
    public void Serialization_round_trips_every_feature_and_the_model_state()
    {
        var state = new UserBehaviorState(windowCapacity: 8);
        foreach (var e in Session("u-2", T0).Concat(Session("u-2", T0 + 86_400_000L))) state.Apply(e);
        state.ModelState = new ModelStateSlot("lstm@3", state.EventCount, [1f, -2f, 3.5f]);

        var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) state.WriteTo(writer);
        buffer.Position = 0;
        var copy = UserBehaviorState.ReadFrom(new BinaryReader(buffer));

        Assert.Equal(state.Features(), copy.Features());
        Assert.Equal(state.Window.ToArray(), copy.Window.ToArray());
        Assert.Equal("lstm@3", copy.ModelState!.ModelKey);
        Assert.Equal([1f, -2f, 3.5f], copy.ModelState.Values);

        // The copy keeps evolving exactly like the original.
        var next = new UserEvent("u-2", T0 + 2 * 86_400_000L, "view") { Item = "sku-9", Device = "android" };
        state.Apply(next);
        copy.Apply(next);
        Assert.Equal(state.Features(), copy.Features());
    }

    [Fact]
    public void A_state_of_an_unknown_layout_version_is_refused()
    {
        var bytes = new byte[] { 99, 0, 0 };
        var error = Assert.Throws<InvalidDataException>(() => UserBehaviorState.ReadFrom(new BinaryReader(new MemoryStream(bytes))));
        Assert.Contains("version 99", error.Message);
    }

    [Fact]
    public void Features_do_not_depend_on_anything_but_the_events()
    {
        var a = new UserBehaviorState();
        var b = new UserBehaviorState();
        var events = Session("u-3", T0).ToList();
        foreach (var e in events) a.Apply(e);
        foreach (var e in events) b.Apply(e);
        Assert.Equal(a.Features(), b.Features());
    }

    [Fact]
    public void The_window_keeps_the_newest_events_in_order()
    {
        var window = new EventWindow(3);
        for (int i = 0; i < 5; i++) window.Add(new WindowEntry("view", i, float.NaN, 0, 0));
        Assert.Equal([2L, 3L, 4L], window.ToArray().Select(e => e.TimestampMs));
    }
    [Theory]
    [InlineData(2)] // not wrapped
    [InlineData(9)] // the ring wrapped
    public void The_window_read_in_place_is_its_entries_oldest_first(int added)
    {
        var window = new EventWindow(4);
        for (int i = 0; i < added; i++) window.Add(new WindowEntry("view", i, float.NaN, 0, 0));
        window.Segments(out var older, out var newer);
        WindowEntry[] read = [.. older.ToArray(), .. newer.ToArray()];
        Assert.Equal(window.ToArray(), read);
    }

    [Fact]
    public void Window_statistics_are_over_the_users_events_in_the_window_wrapped_or_not_markers_left_out()
    {
        string[] types = ["login", "view", "view", "cart", "view", "purchase", "view", "search", "click", "view", "view", "logout"];
        var state = new UserBehaviorState(windowCapacity: 8);
        long t = T0;
        for (int i = 0; i < types.Length; i++)
        {
            t += i % 3 == 0 ? 400 : 65_000 + 1_000 * i; // some gaps under a second
            state.Apply(new UserEvent("u-1", t, types[i]) { Item = i % 4 == 0 ? null : $"sku-{i % 3}", Category = $"c-{i % 2}" });
            if (i % 5 == 4) state.CloseSession(); // markers in the window, left out of its statistics
            var expected = ReferenceWindowStats(state.Window.ToArray());
            var features = state.Features();
            foreach (var (name, value) in expected)
                Assert.Equal(value, features[FeatureSchema.IndexOf(name)], 5);
        }
    }

    /// <summary>The window statistics as defined (over a copy of the window without its end markers), to compare the engine's in-place reading with.</summary>
    private static Dictionary<string, float> ReferenceWindowStats(WindowEntry[] window)
    {
        var events = window.Where(e => !SessionRule.IsEndMarker(e)).ToArray();
        int n = events.Length;
        var gaps = events.Zip(events.Skip(1), (a, b) => b.TimestampMs - a.TimestampMs).ToArray();
        var items = events.Where(e => e.ItemHash != 0).GroupBy(e => e.ItemHash).ToArray();
        int categories = events.Where(e => e.CategoryHash != 0).Select(e => e.CategoryHash).Distinct().Count();
        double entropy = -events.GroupBy(e => e.Bucket).Sum(g => (double)g.Count() / n * Math.Log((double)g.Count() / n));
        return new()
        {
            ["window_min_gap_s"] = MathF.Log(1f + (float)(gaps.Length == 0 ? 0 : gaps.Min() / 1000.0)),
            ["window_fast_gap_share"] = (float)(gaps.Length == 0 ? 0 : (double)gaps.Count(g => g < 1000) / gaps.Length),
            ["window_distinct_items"] = (float)((double)items.Length / n),
            ["window_distinct_categories"] = (float)((double)categories / n),
            ["window_max_item_share"] = (float)((double)(items.Length == 0 ? 0 : items.Max(g => g.Count())) / n),
            ["window_type_entropy"] = (float)entropy,
        };
    }
}
