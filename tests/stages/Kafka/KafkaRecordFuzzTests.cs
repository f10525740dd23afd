using System.Text;
using Confluent.Kafka;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Tests.Parsing;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Kafka;

/// <summary>
/// The Kafka record path (envelope conversion, schema header check, value parsing) is total: whatever
/// the key, header and value bytes, a consumed record becomes an event or a dead letter, never an exception.
/// </summary>
public sealed class KafkaRecordFuzzTests
{
    private static readonly KafkaConsumerSettings Settings = KafkaConsumerSettings.Create("localhost:9092", "g", "events");
    private static readonly KafkaConsumerSession Session = new(Settings, committable: true);

    private static ConsumeResult<byte[]?, byte[]?> Result(byte[]? key, byte[]? value, Headers? headers, long offset) => new()
    {
        Topic = "events",
        Partition = 0,
        Offset = offset,
        Message = new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers, Timestamp = Timestamp.Default },
    };

    /// <summary>Keys: absent, empty, valid, invalid UTF-8, a lone surrogate's bytes, NULs, 1 MiB.</summary>
    private static byte[]?[] Keys(Random random)
    {
        byte[] big = new byte[1 << 20];
        random.NextBytes(big);
        return [null, [], "u-1"u8.ToArray(), [0xff, 0xfe, 0xfd], [0xed, 0xa0, 0x80], [0, 0, 0], [0xEF, 0xBB, 0xBF], big];
    }

    /// <summary>Header sets: none, empty, the schema header with null, empty, invalid UTF-8, oversize, repeated values, other headers only.</summary>
    private static Headers?[] HeaderSets(Random random)
    {
        byte[] big = new byte[100_000];
        random.NextBytes(big);
        Headers With(params (string Key, byte[]? Value)[] headers)
        {
            var set = new Headers();
            foreach (var (key, value) in headers) set.Add(key, value);
            return set;
        }
        return
        [
            null,
            [],
            With(("sd-schema", "1"u8.ToArray())),
            With(("sd-schema", null)),
            With(("sd-schema", [])),
            With(("sd-schema", [0xff, 0xfe])),
            With(("sd-schema", [0xEF, 0xBB, 0xBF, (byte)'1'])),
            With(("sd-schema", big)),
            With(("sd-schema", "1"u8.ToArray()), ("sd-schema", [0xc3])),
            With(("sd-schema", [0xc3]), ("sd-schema", "1"u8.ToArray())),
            With(("other", big), ("", [0xff])),
        ];
    }

    [Theory]
    [InlineData(41)]
    [InlineData(42)]
    public void Any_key_header_and_value_becomes_an_event_or_a_dead_letter(int seed)
    {
        var random = new Random(seed);
        var converter = new KafkaRecordConverter(Settings.SchemaHeader, Settings.SchemaVersions);
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings);
        var keys = Keys(random);
        var headerSets = HeaderSets(random);
        var values = RecordEdgeCases.NumericEdgeJson().Select(Encoding.UTF8.GetBytes)
            .Concat(RecordEdgeCases.RandomBytes(seed, 300))
            .Concat(RecordEdgeCases.Mutations(RecordEdgeCases.ValidJson, seed, 300))
            .Concat([null, [], [0xEF, 0xBB, 0xBF], .. RecordEdgeCases.ValidJson.Select(Encoding.UTF8.GetBytes)])
            .ToList();

        int events = 0, letters = 0;
        long offset = 0;
        foreach (byte[]? value in values)
        {
            var key = keys[random.Next(keys.Length)];
            var headers = headerSets[random.Next(headerSets.Length)];
            ParsedRecord parsed;
            try
            {
                var record = converter.Convert(Result(key, value, headers, offset++), Session, epoch: 1);
                parsed = decoder.Decode(record.Record);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"threw {e.GetType().Name} ({e.Message}) for value {(value is null ? "null" : Convert.ToHexString(value))}");
            }
            if (parsed is DeadLetter letter)
            {
                letters++;
                Assert.NotEqual(RejectionReason.Unreadable, letter.Rejection.Reason);
                Assert.NotEmpty(DeadLetterJson.ToUtf8(letter, 4096));
            }
            else
            {
                events++;
                Assert.IsType<IngestedEvent>(parsed);
            }
        }
        Assert.True(events > 0 && letters > 0, $"{events} events, {letters} dead letters");
    }

    [Fact]
    public void An_oversize_or_invalid_schema_header_is_dead_lettered_with_a_short_detail()
    {
        var converter = new KafkaRecordConverter("sd-schema", ["1"]);
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings);
        byte[] value = Encoding.UTF8.GetBytes(RecordEdgeCases.ValidJson[1]);
        foreach (byte[] header in new[] { new byte[100_000], [0xff, 0xfe], "1 "u8.ToArray() })
        {
            var record = converter.Convert(Result(null, value, new Headers { { "sd-schema", header } }, 0), Session, epoch: 1).Record;
            Assert.True(record.SchemaVersion!.Length <= KafkaRecordConverter.MaxSchemaHeaderBytes + 3);
            var letter = Assert.IsType<DeadLetter>(decoder.Decode(record));
            Assert.Equal(RejectionReason.UnsupportedSchema, letter.Rejection.Reason);
            Assert.True(letter.Rejection.Detail.Length < 300, letter.Rejection.Detail);
        }
    }

    [Fact]
    public void A_far_epoch_value_with_any_key_is_dead_lettered_and_a_BOM_value_is_read()
    {
        var converter = new KafkaRecordConverter("sd-schema", ["1"]);
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings);
        var headers = new Headers { { "sd-schema", "1"u8.ToArray() } };
        foreach (var key in Keys(new Random(5)))
        {
            var far = converter.Convert(Result(key, """{"userId":"u","ts":1e15,"type":"view"}"""u8.ToArray(), headers, 0), Session, epoch: 1).Record;
            Assert.Equal(RejectionReason.OutOfRange, Assert.IsType<DeadLetter>(decoder.Decode(far)).Rejection.Reason);
            var bom = converter.Convert(Result(key, [0xEF, 0xBB, 0xBF, .. """{"userId":"u","ts":1763805851,"type":"view"}"""u8], headers, 1), Session, epoch: 1).Record;
            Assert.Equal("u", Assert.IsType<IngestedEvent>(decoder.Decode(bom)).Event.UserId);
        }
    }
}
