using System.Text;
using System.Text.Json;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.DeadLetters;

public sealed class DeadLetterJsonTests
{
    private static JsonElement Write(byte[] raw, long length, int maxRawBytes)
    {
        var letter = new DeadLetter(new RawRecord(raw, new SourcePosition("in.jsonl", 0, 12), length), new Rejection(RejectionReason.MalformedJson, "bad"));
        return JsonDocument.Parse(DeadLetterJson.ToUtf8(letter, maxRawBytes)).RootElement;
    }

    [Fact]
    public void A_text_record_is_kept_as_text_with_its_position_and_reason()
    {
        var json = Write(Encoding.UTF8.GetBytes("{\"userId\":\"ü\" oops"), 19, 4096);
        Assert.Equal("malformed_json", json.GetProperty("reason").GetString());
        Assert.Equal("in.jsonl:12", json.GetProperty("position").GetString());
        Assert.Equal("{\"userId\":\"ü\" oops", json.GetProperty("raw").GetString());
        Assert.False(json.GetProperty("rawTruncated").GetBoolean());
    }

    [Fact]
    public void Binary_junk_is_kept_as_base64()
    {
        byte[] junk = [0xff, 0x00, 0x81, 0x7b];
        var json = Write(junk, junk.Length, 4096);
        Assert.Equal(junk, Convert.FromBase64String(json.GetProperty("rawBase64").GetString()!));
    }

    [Fact]
    public void A_long_record_is_cut_at_the_limit_without_splitting_a_character()
    {
        byte[] raw = Encoding.UTF8.GetBytes("ab€€€€");
        var json = Write(raw, raw.Length, 6);
        Assert.Equal("ab€", json.GetProperty("raw").GetString());
        Assert.True(json.GetProperty("rawTruncated").GetBoolean());
        Assert.Equal(raw.Length, json.GetProperty("rawBytes").GetInt64());
    }
}
