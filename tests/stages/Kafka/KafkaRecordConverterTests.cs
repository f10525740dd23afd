using System.Text;
using Confluent.Kafka;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class KafkaRecordConverterTests
{
    private static readonly KafkaConsumerSession Session = new(KafkaConsumerSettings.Create("localhost:9092", "g", "events"), committable: true);

    private static ConsumeResult<byte[]?, byte[]?> Result(byte[]? key, byte[]? value, Headers? headers, Timestamp timestamp, int partition = 2, long offset = 41) => new()
    {
        Topic = "events",
        Partition = partition,
        Offset = offset,
        Message = new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers, Timestamp = timestamp },
    };

    private static Headers Schema(string version) => new() { { "sd-schema", Encoding.UTF8.GetBytes(version) } };

    [Fact]
    public void Converter_must_keep_value_key_schema_timestamp_and_position()
    {
        var converter = new KafkaRecordConverter("sd-schema", ["1"]);
        byte[] value = Encoding.UTF8.GetBytes("{\"userId\":\"u-1\"}");
        var timestamp = new Timestamp(1_795_000_000_123, TimestampType.CreateTime);

        var record = converter.Convert(Result("u-1"u8.ToArray(), value, Schema("1"), timestamp), Session, epoch: 3);

        var position = new SourcePosition("kafka:events", 2, 41);
        Assert.Equal(value, record.Raw.Bytes.ToArray());
        Assert.Equal(value.Length, record.Raw.Length);
        Assert.Equal(position, record.Record.Position);
        Assert.Equal("u-1", record.Record.Key);
        Assert.Equal("1", record.Record.SchemaVersion);
        Assert.Equal(1_795_000_000_123, record.Record.TimestampMs);
        Assert.Equal(position, record.Offset.Position);
        Assert.Equal(new TopicPartition("events", 2), record.Offset.TopicPartition);
        Assert.Equal(3, record.Offset.Epoch);
        Assert.Same(Session, record.Offset.Session);
    }

    [Fact]
    public void Converter_must_read_a_missing_key_value_header_and_timestamp_as_absent()
    {
        var converter = new KafkaRecordConverter("sd-schema", ["1"]);

        var record = converter.Convert(Result(null, null, null, new Timestamp(0, TimestampType.NotAvailable)), Session, epoch: 1);

        Assert.Empty(record.Raw.Bytes.ToArray());
        Assert.Null(record.Record.Key);
        Assert.Null(record.Record.SchemaVersion);
        Assert.Null(record.Record.TimestampMs);
    }

    [Theory]
    [InlineData("2", "2")]     // an unknown version is passed on as written: the decoder dead-letters it
    [InlineData("1", "1")]
    [InlineData("", "")]
    public void Converter_must_report_the_schema_header_as_written(string header, string expected)
    {
        var converter = new KafkaRecordConverter("sd-schema", ["1", "3"]);
        var record = converter.Convert(Result(null, [1], Schema(header), Timestamp.Default), Session, epoch: 1);
        Assert.Equal(expected, record.Record.SchemaVersion);
    }

    [Fact]
    public void Converter_must_take_the_last_schema_header_and_use_its_own_header_name()
    {
        var converter = new KafkaRecordConverter("x-schema", ["1"]);
        var headers = new Headers { { "sd-schema", "9"u8.ToArray() }, { "x-schema", "2"u8.ToArray() }, { "x-schema", "1"u8.ToArray() } };
        Assert.Equal("1", converter.Convert(Result(null, [1], headers, Timestamp.Default), Session, epoch: 1).Record.SchemaVersion);
    }
}
