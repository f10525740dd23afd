using System.Text;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class KafkaEventDecoderTests
{
    private const string Event = "{\"userId\":\"u-1\",\"ts\":\"2026-11-22T10:04:11.532Z\",\"type\":\"cart\"}";
    private static readonly KafkaConsumerSettings Settings = KafkaConsumerSettings.Create("localhost:9092", "g", "events");

    private static KafkaRecord Record(string value, string? schema) =>
        new(new RawRecord(Encoding.UTF8.GetBytes(value), new SourcePosition("kafka:events", 1, 7), value.Length), "u-1", schema, null);

    [Theory]
    [InlineData("1")]
    [InlineData(null)]
    public void Decoder_must_parse_events_of_a_known_schema_or_without_the_header(string? schema)
    {
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings);
        var parsed = Assert.IsType<IngestedEvent>(decoder.Decode(Record(Event, schema)));
        Assert.Equal("u-1", parsed.Event.UserId);
        Assert.Equal(new SourcePosition("kafka:events", 1, 7), parsed.Position);
    }

    [Fact]
    public void Decoder_must_send_an_unknown_schema_version_to_the_dead_letters_naming_the_header()
    {
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings);
        var dead = Assert.IsType<DeadLetter>(decoder.Decode(Record(Event, "2")));
        Assert.Equal(RejectionReason.UnsupportedSchema, dead.Rejection.Reason);
        Assert.Contains("schema version '2'", dead.Rejection.Detail);
        Assert.Contains("sd-schema", dead.Rejection.Detail);
    }

    [Fact]
    public void Decoder_must_reject_a_record_without_the_header_when_the_header_is_required()
    {
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings.WithSchema("sd-schema", requireHeader: true, "1"));
        var dead = Assert.IsType<DeadLetter>(decoder.Decode(Record(Event, null)));
        Assert.Contains("no 'sd-schema' header", dead.Rejection.Detail);
    }

    [Fact]
    public void Decoder_must_pass_malformed_values_through_the_normal_parser()
    {
        var decoder = new KafkaEventDecoder(new EventParser(ValidationSettings.Default), Settings);
        var dead = Assert.IsType<DeadLetter>(decoder.Decode(Record("{oops", "1")));
        Assert.Equal(RejectionReason.MalformedJson, dead.Rejection.Reason);
    }
}
