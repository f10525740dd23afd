using System.Text;
using StreamDetect.Stages.Kafka;

namespace StreamDetect.Stages.Tests.Kafka;

public sealed class FeedbackLabelParserTests
{
    private static FeedbackLabel? Parse(string json, out string? error) =>
        FeedbackLabelParser.TryParse(Encoding.UTF8.GetBytes(json), out error);

    [Theory]
    [InlineData("{\"userId\":\"u-1\",\"label\":1,\"alertId\":\"a-9\"}", "u-1", 1, "a-9")]
    [InlineData("{\"label\":0,\"userId\":\"u-2\"}", "u-2", 0, null)]
    [InlineData("{\"userId\":\"u-3\",\"label\":1,\"alertId\":null,\"note\":{\"x\":[1,2]}}", "u-3", 1, null)]
    public void Parser_must_read_valid_labels(string json, string userId, int label, string? alertId)
    {
        var parsed = Parse(json, out string? error);
        Assert.Null(error);
        Assert.Equal(new FeedbackLabel(userId, label, alertId), parsed);
    }

    [Theory]
    [InlineData("not json", "malformed")]
    [InlineData("[1]", "not a JSON object")]
    [InlineData("{\"label\":1}", "userId is missing")]
    [InlineData("{\"userId\":\"\",\"label\":1}", "userId is missing")]
    [InlineData("{\"userId\":\"u\"}", "label is missing")]
    [InlineData("{\"userId\":\"u\",\"label\":2}", "label 2 is not 0 or 1")]
    [InlineData("{\"userId\":\"u\",\"label\":\"1\"}", "label is not an integer")]
    [InlineData("{\"userId\":7,\"label\":1}", "userId is not a string")]
    [InlineData("{\"userId\":\"u\",\"label\":1} {}", "trailing data")]
    public void Parser_must_reject_invalid_labels_with_a_reason(string json, string reason)
    {
        Assert.Null(Parse(json, out string? error));
        Assert.Contains(reason, error);
    }
}
