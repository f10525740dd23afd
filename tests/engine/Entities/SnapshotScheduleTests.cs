using StreamDetect.Engine.Entities;

namespace StreamDetect.Engine.Tests.Entities;

public sealed class SnapshotScheduleTests
{
    [Fact]
    public void A_due_snapshot_waits_for_the_writes_in_flight_and_is_taken_after_the_last_of_them_whatever_it_was()
    {
        var schedule = new SnapshotSchedule(every: 10);
        schedule.WriteStarted(); // a batch row
        schedule.WriteStarted(); // a confirmations row
        schedule.EventsApplied(10);
        Assert.True(schedule.Due);
        Assert.False(schedule.CanTake);

        schedule.WriteFinished(); // the batch row's handler: the confirmations row is still in flight
        Assert.False(schedule.CanTake);
        schedule.WriteFinished(); // the confirmations row's handler: now
        Assert.True(schedule.CanTake);

        schedule.Taken();
        Assert.False(schedule.Due);
        Assert.Equal(0, schedule.EventsSinceSnapshot);
    }

    [Fact]
    public void Finishing_a_write_that_never_started_is_a_bug()
    {
        Assert.Throws<InvalidOperationException>(() => new SnapshotSchedule(5).WriteFinished());
    }
}
