using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Integration.Tests.Support;

/// <summary>Events for batches sent straight to a partition: a view by the user, <c>offset</c> seconds after 2026-11-02 08:00 UTC, read at that offset of a file.</summary>
public static class PartitionBatchEvents
{
    private static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static IngestedEvent View(string user, long offset) =>
        new(new UserEvent(user, T0 + offset * 1000, EventTypes.View), new SourcePosition("file.jsonl", 0, offset, 9)) { OrderKey = T0 + offset * 1000 };
}
