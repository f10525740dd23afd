using System.Text;
using System.Text.Json;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class DeadLetterJsonTests
{
    private static DeadLetter Letter(byte[] bytes, long? length = null) => new(
        new RawRecord(bytes, new SourcePosition("kafka:events", 3, 42), length ?? bytes.Length),
        new Rejection(RejectionReason.MalformedJson, "'x' is an invalid start of a value"));

    private static JsonElement Json(DeadLetter letter, int maxRawBytes) =>
        JsonDocument.Parse(DeadLetterJson.ToUtf8(letter, maxRawBytes)).RootElement;

    [Fact]
    public void DeadLetterJson_must_keep_a_utf8_record_as_text_with_its_position_and_reason()
    {
        var json = Json(Letter(Encoding.UTF8.GetBytes("{\"userId\": x}")), 4096);
        Assert.Equal("malformed_json", json.GetProperty("reason").GetString());
        Assert.Contains("invalid start", json.GetProperty("detail").GetString());
        Assert.Equal("kafka:events", json.GetProperty("source").GetString());
        Assert.Equal(3, json.GetProperty("partition").GetInt32());
        Assert.Equal(42, json.GetProperty("offset").GetInt64());
        Assert.Equal("{\"userId\": x}", json.GetProperty("raw").GetString());
        Assert.False(json.TryGetProperty("rawBase64", out _));
        Assert.Equal(13, json.GetProperty("rawBytes").GetInt64());
        Assert.False(json.GetProperty("rawTruncated").GetBoolean());
    }

    [Fact]
    public void DeadLetterJson_must_write_bytes_that_are_not_utf8_as_base64()
    {
        byte[] bytes = [0xff, 0xfe, 0x00, 0x41];
        var json = Json(Letter(bytes), 4096);
        Assert.False(json.TryGetProperty("raw", out _));
        Assert.Equal(bytes, json.GetProperty("rawBase64").GetBytesFromBase64());
    }

    [Fact]
    public void DeadLetterJson_must_cut_a_long_record_on_a_character_boundary_and_say_so()
    {
        // "é" is two bytes; a 5-byte limit would split the third one.
        var json = Json(Letter(Encoding.UTF8.GetBytes("ééééé")), 5);
        Assert.Equal("éé", json.GetProperty("raw").GetString());
        Assert.Equal(10, json.GetProperty("rawBytes").GetInt64());
        Assert.True(json.GetProperty("rawTruncated").GetBoolean());
    }

    [Fact]
    public void DeadLetterJson_must_report_the_full_length_of_a_record_the_source_already_truncated()
    {
        var json = Json(Letter(Encoding.UTF8.GetBytes("abc"), length: 1_000_000), 4096);
        Assert.Equal("abc", json.GetProperty("raw").GetString());
        Assert.Equal(1_000_000, json.GetProperty("rawBytes").GetInt64());
        Assert.True(json.GetProperty("rawTruncated").GetBoolean());
    }
}
