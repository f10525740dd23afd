using System.Text;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Parsing;

public sealed class CsvLayoutTests
{
    private readonly EventParser _parser = new(ValidationSettings.Default);

    [Fact]
    public void A_headerless_Taobao_UserBehavior_row_maps_behaviours_and_epoch_seconds()
    {
        var layout = CsvLayout.Detect("1,2268318,2520377,pv,1511544070");
        Assert.False(layout.HasHeader);

        var e = layout.Decode("1,2268318,2520377,buy,1511544070"u8, _parser).Event!;
        Assert.Equal(("1", "2268318", "2520377", EventTypes.Purchase), (e.UserId, e.Item, e.Category, e.Type));
        Assert.Equal(1511544070_000L, e.TimestampMs);
        Assert.Equal(EventTypes.Favorite, layout.Decode("1,2,3,fav,1511544070"u8, _parser).Event!.Type);
        Assert.Equal(EventTypes.View, layout.Decode("1,2,3,pv,1511544070"u8, _parser).Event!.Type);
        Assert.Equal(EventTypes.Cart, layout.Decode("1,2,3,cart,1511544070"u8, _parser).Event!.Type);
    }

    [Fact]
    public void The_Taobao_layout_with_its_header_is_recognised_too()
    {
        var layout = CsvLayout.Detect("user_id,item_id,category_id,behavior_type,timestamp");
        Assert.True(layout.HasHeader);
        Assert.True(layout.MapsTaobaoBehaviors);
        Assert.Equal(EventTypes.View, layout.Decode("9,8,7,pv,1511544070"u8, _parser).Event!.Type);
    }

    [Fact]
    public void A_header_in_the_JSON_field_names_reads_every_field_including_quoted_commas()
    {
        var layout = CsvLayout.Detect("userId,ts,type,item,amount,query,label");
        var e = layout.Decode(Encoding.UTF8.GetBytes("u-1,2026-11-22T10:04:11Z,search,,12.5,\"red, \"\"big\"\" shoes\",1"), _parser).Event!;
        Assert.Equal("u-1", e.UserId);
        Assert.Null(e.Item);
        Assert.Equal(12.5, e.Amount);
        Assert.Equal("red, \"big\" shoes", e.Query);
        Assert.Equal(1, e.Label);
    }

    [Fact]
    public void A_header_without_the_required_columns_is_refused_naming_them()
    {
        var error = Assert.Throws<FormatException>(() => CsvLayout.Detect("a,b,c"));
        Assert.Contains("userId", error.Message);
        Assert.Contains("ts", error.Message);
    }

    [Theory]
    [InlineData("u-1,2026-11-22T10:04:11Z", RejectionReason.MalformedCsv)]
    [InlineData("u-1,2026-11-22T10:04:11Z,view,extra", RejectionReason.MalformedCsv)]
    [InlineData("\"u-1,2026-11-22T10:04:11Z,view", RejectionReason.MalformedCsv)]
    [InlineData(",2026-11-22T10:04:11Z,view", RejectionReason.MissingField)]
    [InlineData("u-1,not-a-time,view", RejectionReason.InvalidTimestamp)]
    public void Bad_rows_are_rejected_with_a_reason(string row, RejectionReason reason)
    {
        var layout = CsvLayout.Detect("userId,ts,type");
        Assert.Equal(reason, layout.Decode(Encoding.UTF8.GetBytes(row), _parser).Rejection!.Value.Reason);
    }
}
