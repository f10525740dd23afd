using StreamDetect.Engine.Entities;
using StreamDetect.Models.Events;
using StreamDetect.Models.Features;

namespace StreamDetect.Engine.Tests.Entities;

/// <summary>
/// A user's scoring tail with pooled feature rows: it grows past its first size with every row kept, confirming
/// once the window is full shifts the context in place (oldest out, the scored events in), and a released tail
/// refuses new events.
/// </summary>
public sealed class ScoringTailTests
{
    private const int WindowSize = 4;
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>A user's state after <paramref name="events"/> views a minute apart, with each event's feature row.</summary>
    private static (UserBehaviorState Behavior, ScoringTail Tail, List<float[]> Rows, List<WindowEntry> Entries) Fill(int before, int events)
    {
        var behavior = new UserBehaviorState(WindowSize);
        for (int i = 0; i < before; i++) behavior.Apply(new UserEvent("u", T0 + i * 60_000L, EventTypes.View) { Item = $"sku-{i}" });
        var tail = new ScoringTail(behavior.Window.ToArray(), behavior.EntryCount + 1, WindowSize, expected: 1);
        var rows = new List<float[]>();
        var entries = new List<WindowEntry>();
        for (int i = before; i < before + events; i++)
        {
            behavior.Apply(new UserEvent("u", T0 + i * 60_000L, i % 2 == 0 ? EventTypes.View : EventTypes.Click) { Item = $"sku-{i}" });
            tail.Add(behavior, orderKey: i, label: -1, receivedTicks: 0);
            rows.Add(behavior.Features());
            entries.Add(behavior.Window[behavior.Window.Count - 1]);
        }
        return (behavior, tail, rows, entries);
    }

    [Fact]
    public void A_tail_grown_past_its_first_size_keeps_every_row()
    {
        var (_, tail, rows, _) = Fill(before: 2, events: 37);
        int f = FeatureSchema.Count;

        Assert.Equal(37, tail.Count);
        for (int i = 0; i < rows.Count; i++) Assert.Equal(rows[i], tail.Features.Slice(i * f, f).ToArray());
        Assert.Equal(rows.SelectMany(r => r).ToArray(), tail.RequestFeatures(37));
    }

    [Fact]
    public void Confirming_with_a_full_window_shifts_the_context_and_keeps_the_unscored_rows()
    {
        var (_, tail, rows, entries) = Fill(before: 6, events: 5);
        var contextBefore = tail.Context.ToArray();
        int f = FeatureSchema.Count;
        Assert.Equal(WindowSize, contextBefore.Length);

        Assert.True(tail.Confirm(tail.FirstEventIndex + 1)); // the first two are scored

        Assert.Equal([contextBefore[2], contextBefore[3], entries[0], entries[1]], tail.Context.ToArray());
        Assert.Equal(3, tail.Count);
        Assert.Equal(entries.Skip(2).ToArray(), tail.Entries.ToArray());
        for (int i = 0; i < 3; i++) Assert.Equal(rows[i + 2], tail.Features.Slice(i * f, f).ToArray());
        Assert.Equal([.. contextBefore[2..], .. entries], tail.RequestWindow(3));
    }

    [Fact]
    public void A_released_tail_is_empty_and_refuses_new_events()
    {
        var (behavior, tail, _, _) = Fill(before: 1, events: 3);

        tail.Release();
        tail.Release(); // twice is harmless: the rows went back to the pool once

        Assert.Equal(0, tail.Count);
        Assert.True(tail.Features.IsEmpty);
        Assert.Throws<ObjectDisposedException>(() => tail.Add(behavior, orderKey: 9, label: -1, receivedTicks: 0));
    }
}
