using Akka.Configuration;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Tests.Support;

/// <summary>
/// What the tests of a real partition actor share: an actor system whose journal and snapshot store are in memory and
/// go through the engine's serializer (every row and snapshot is written and read back as in a store), and events of
/// one file source, one second apart from <see cref="T0"/>.
/// </summary>
public static class InMemoryPartitions
{
    public static readonly long T0 = new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    public static Config Config { get; } = ConfigurationFactory.ParseString("""
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        akka.actor.serializers.streamdetect = "StreamDetect.Engine.Persistence.EngineSerializer, streamdetect"
        akka.actor.serialization-bindings {
          "StreamDetect.Engine.Entities.EventsPersisted, streamdetect" = streamdetect
          "StreamDetect.Engine.Entities.PartitionSnapshot, streamdetect" = streamdetect
          "StreamDetect.Stages.Partitions.IPartitionProtocol, StreamDetect.Stages" = streamdetect
        }
        akka.actor.serialize-messages = off
        akka.persistence.journal.inmem.serialize-messages = on
        akka.persistence.snapshot-store.inmem.serialize-messages = on
        # A fresh system's first persisted answer can take over the TestKit's default 3 s on a loaded 2-core CI machine
        # (UserPartitionTests failed so once); waits for an expected message may take longer, waits for none do not.
        akka.test.single-expect-default = 15s
        """);

    /// <summary>The user's event at file offset <paramref name="offset"/>, <paramref name="offset"/> seconds after <see cref="T0"/> (its order key too).</summary>
    public static IngestedEvent Event(string user, long offset, string type = EventTypes.View, int? label = null) =>
        new(new UserEvent(user, T0 + offset * 1000, type) { Item = $"sku-{offset % 7}", Label = label }, new SourcePosition("file.jsonl", 0, offset, 9))
        {
            OrderKey = T0 + offset * 1000,
        };
}
