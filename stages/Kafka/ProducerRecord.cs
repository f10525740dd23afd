using StreamDetect.Stages.DeadLetters;
using System.Text;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Stages.Kafka;

/// <summary>A record to produce: key (userId for events and alerts), value bytes, optional headers.</summary>
public sealed class ProducerRecord
{
    public ProducerRecord(string? key, byte[] value, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        Key = key;
        Value = value;
        Headers = headers;
    }

    /// <summary>Partitioning key; records with the same key keep their order. Null spreads records.</summary>
    public string? Key { get; }

    public byte[] Value { get; }

    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; }

    /// <summary>An event in the wire format: key = userId, value = its JSON, header schema = version.</summary>
    public static ProducerRecord ForEvent(UserEvent e, string schemaHeader = "sd-schema", string schemaVersion = "1") =>
        new(e.UserId, UserEventJson.ToUtf8(e), [new(schemaHeader, schemaVersion)]);

    /// <summary>A dead letter as <see cref="DeadLetterJson"/> (no key: the record may not have a user).</summary>
    public static ProducerRecord ForDeadLetter(DeadLetter deadLetter, int maxRawBytes) =>
        new(null, DeadLetterJson.ToUtf8(deadLetter, maxRawBytes));

    public override string ToString() => $"key={Key} {Value.Length} bytes: {Encoding.UTF8.GetString(Value.AsSpan(0, Math.Min(Value.Length, 80)))}";
}
