using StreamDetect.Engine.Entities;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;

namespace StreamDetect.Engine.Tests.Entities;

/// <summary>
/// A partition's spare scoring tails: a tail taken from the spares gives the same requests as a new tail made from the
/// same window (nothing of the user it served before shows), and the spares stay bounded.
/// </summary>
public sealed class SpareScoringTailsTests
{
    private const int WindowSize = 4;
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    private static UserBehaviorState Behavior(string user, int events, int from = 0)
    {
        var behavior = new UserBehaviorState(WindowSize);
        for (int i = from; i < from + events; i++) behavior.Apply(new UserEvent(user, T0 + i * 60_000L, EventTypes.View) { Item = $"{user}-sku-{i}" });
        return behavior;
    }

    /// <summary>Folds <paramref name="events"/> more events into the user's state and the tail, as a partition does.</summary>
    private static void Feed(UserBehaviorState behavior, ScoringTail tail, string user, int events, int from, long ticks)
    {
        for (int i = from; i < from + events; i++)
        {
            behavior.Apply(new UserEvent(user, T0 + i * 60_000L, i % 2 == 0 ? EventTypes.Click : EventTypes.View) { Item = $"{user}-sku-{i}" });
            tail.Add(behavior, orderKey: 1000 + i, label: (sbyte)(i % 3 == 0 ? 1 : -1), receivedTicks: ticks + i, device: i % 2 == 0 ? $"{user}-d" : null, ip: $"{user}-ip-{i}");
        }
    }

    [Theory]
    [InlineData(2)] // a short context: the spare's (full) context array is not the new one's length
    [InlineData(9)] // a full window
    public void A_spare_tail_gives_the_requests_a_new_tail_from_the_same_window_gives(int before)
    {
        var spares = new SpareScoringTails(WindowSize);
        // The spare served another user first: more events than the next one, labels, devices, receive times, a confirmation.
        var other = Behavior("a", events: 6);
        var used = spares.Take(other.Window, other.EntryCount + 1);
        Feed(other, used, "a", events: 7, from: 6, ticks: 50);
        Assert.True(used.Confirm(used.FirstEventIndex + 2));
        spares.Give(used);
        Assert.Equal(1, spares.Count);

        var behavior = Behavior("b", before, from: 100);
        var expected = new ScoringTail(behavior.Window.ToArray(), behavior.EntryCount + 1, WindowSize);
        var recycled = spares.Take(behavior.Window, behavior.EntryCount + 1);
        Assert.Same(used, recycled);
        Assert.Equal(0, spares.Count);
        var twin = Behavior("b", before, from: 100);
        Feed(behavior, expected, "b", events: 3, from: 100 + before, ticks: 7);
        Feed(twin, recycled, "b", events: 3, from: 100 + before, ticks: 7);

        Assert.Equal(expected.FirstEventIndex, recycled.FirstEventIndex);
        Assert.Equal(expected.Count, recycled.Count);
        Assert.Equal(expected.FirstReceivedTicks, recycled.FirstReceivedTicks);
        Assert.Equal(expected.Context.ToArray(), recycled.Context.ToArray());
        Assert.Equal(expected.RequestWindow(3), recycled.RequestWindow(3));
        Assert.Equal(expected.RequestFeatures(3), recycled.RequestFeatures(3));
        Assert.Equal(expected.RequestKeys(3), recycled.RequestKeys(3));
        Assert.Equal(expected.RequestLabels(3), recycled.RequestLabels(3));
        Assert.Equal(expected.RequestDevices(3), recycled.RequestDevices(3));
        Assert.Equal(expected.RequestIps(3), recycled.RequestIps(3));
    }

    [Fact]
    public void A_tail_that_outgrows_its_rows_trades_them_for_a_spares_bigger_ones_and_keeps_every_row()
    {
        var spares = new SpareScoringTails(WindowSize);
        // A new tail (no spare yet), and a spare whose rows grew to hold 20 events.
        var behavior = Behavior("u", events: 3);
        var tail = spares.Take(behavior.Window, behavior.EntryCount + 1);
        int firstCapacity = tail.RowsCapacity;
        var busy = Behavior("busy", events: 1);
        var grown = spares.Take(busy.Window, busy.EntryCount + 1);
        Feed(busy, grown, "busy", events: 20, from: 1, ticks: 0);
        int grownCapacity = grown.RowsCapacity;
        Assert.True(grownCapacity > firstCapacity);
        Assert.False(grown.Confirm(grown.FirstEventIndex + 19));
        spares.Give(grown);

        // The new tail outgrows its first rows: it gets the spare's array, the spare gets its own.
        var rows = new List<float[]>();
        for (int i = 3; i < 13; i++)
        {
            behavior.Apply(new UserEvent("u", T0 + i * 60_000L, EventTypes.Click) { Item = $"u-sku-{i}" });
            tail.Add(behavior, orderKey: i, label: -1, receivedTicks: 0);
            rows.Add(behavior.Features());
        }

        Assert.Equal(grownCapacity, tail.RowsCapacity);
        Assert.Equal(firstCapacity, grown.RowsCapacity);
        Assert.Equal(rows.SelectMany(r => r).ToArray(), tail.RequestFeatures(10));
        // The spare still serves the next user as a new tail would.
        var next = Behavior("v", events: 2);
        var again = spares.Take(next.Window, next.EntryCount + 1);
        Assert.Same(grown, again);
        var expected = new ScoringTail(next.Window.ToArray(), next.EntryCount + 1, WindowSize);
        var twin = Behavior("v", events: 2);
        Feed(next, again, "v", events: 2, from: 2, ticks: 1);
        Feed(twin, expected, "v", events: 2, from: 2, ticks: 1);
        Assert.Equal(expected.RequestFeatures(2), again.RequestFeatures(2));
        Assert.Equal(expected.RequestWindow(2), again.RequestWindow(2));
    }

    [Fact]
    public void The_spares_are_bounded_and_keep_no_tail_grown_by_a_burst()
    {
        var spares = new SpareScoringTails(WindowSize);
        var burst = Behavior("burst", events: 1);
        var big = spares.Take(burst.Window, burst.EntryCount + 1);
        Feed(burst, big, "burst", events: SpareScoringTails.MaxRows + 1, from: 1, ticks: 0);
        spares.Give(big);
        Assert.Equal(0, spares.Count);
        Assert.True(big.Features.IsEmpty); // released: its rows went back to the pool

        for (int i = 0; i < SpareScoringTails.Capacity + 5; i++)
        {
            var behavior = Behavior($"u{i}", events: 1);
            var tail = new ScoringTail(behavior.Window.ToArray(), behavior.EntryCount + 1, WindowSize);
            Feed(behavior, tail, $"u{i}", events: 2, from: 1, ticks: 0);
            spares.Give(tail);
        }
        Assert.Equal(SpareScoringTails.Capacity, spares.Count);
    }
}
