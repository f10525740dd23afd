using System.Text;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Tests.Parsing;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Tests.Sources;

/// <summary>
/// Files as the file source reads them (<see cref="RecordFileReader"/> then <see cref="EventParser"/>):
/// a byte-order mark costs nothing, and a far-epoch or otherwise broken record between good ones is a
/// dead letter with a reason while the good ones are read.
/// </summary>
public sealed class BadRecordFileTests : IDisposable
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];
    private readonly string _dir = Directory.CreateTempSubdirectory("sd-badrecords-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static (List<string> Users, List<DeadLetter> Letters) ReadAll(string path)
    {
        var letters = new List<DeadLetter>();
        var users = EventFile.Read(path, ValidationSettings.Default, letters.Add).Select(e => e.UserId).ToList();
        return (users, letters);
    }

    [Theory]
    [InlineData("events.jsonl")]
    [InlineData("events.txt")]   // no telling extension: the format is decided from the first line, after the BOM
    [InlineData("events")]
    public void A_JSON_Lines_file_with_a_byte_order_mark_is_read_whole(string name)
    {
        string path = Write(name, [.. Bom, .. Encoding.UTF8.GetBytes("{\"userId\":\"a\",\"ts\":1763805851,\"type\":\"view\"}\n{\"userId\":\"b\",\"ts\":1763805852,\"type\":\"view\"}\n")]);
        var (users, letters) = ReadAll(path);
        Assert.Equal(["a", "b"], users);
        Assert.Empty(letters);
    }

    [Theory]
    [InlineData("events.csv", "userId,ts,type\r\n")]
    [InlineData("events.txt", "userId,ts,type\n")]
    [InlineData("taobao.csv", "")]   // headerless Taobao UserBehavior: the first row is data
    public void A_CSV_file_with_a_byte_order_mark_is_read_whole(string name, string header)
    {
        string rows = header.Length > 0 ? "a,1763805851,view\nb,1763805852,view\n" : "1,2,3,pv,1763805851\n2,2,3,buy,1763805852\n";
        string path = Write(name, [.. Bom, .. Encoding.UTF8.GetBytes(header + rows)]);
        var (users, letters) = ReadAll(path);
        Assert.Equal(header.Length > 0 ? ["a", "b"] : ["1", "2"], users);
        Assert.Empty(letters);
    }

    [Fact]
    public void A_byte_order_mark_at_the_start_of_a_later_record_is_accepted_too()
    {
        // Two files concatenated, each with its BOM.
        byte[] one = [.. Bom, .. Encoding.UTF8.GetBytes("{\"userId\":\"a\",\"ts\":1763805851,\"type\":\"view\"}\n")];
        byte[] two = [.. Bom, .. Encoding.UTF8.GetBytes("{\"userId\":\"b\",\"ts\":1763805852,\"type\":\"view\"}\n")];
        var (users, letters) = ReadAll(Write("cat.jsonl", [.. one, .. two]));
        Assert.Equal(["a", "b"], users);
        Assert.Empty(letters);
    }

    [Fact]
    public void Far_epoch_and_every_other_edge_record_in_a_JSON_Lines_file_is_dead_lettered_between_good_ones()
    {
        var lines = new List<string> { """{"userId":"first","ts":1763805851,"type":"view"}""", """{"userId":"u","ts":1e15,"type":"view"}""" };
        lines.AddRange(RecordEdgeCases.NumericEdgeJson());
        lines.Add("""{"userId":"last","ts":1763805851,"type":"view"}""");
        string path = Write("edges.jsonl", Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));

        var (users, letters) = ReadAll(path);

        Assert.Equal("first", users[0]);
        Assert.Equal("last", users[^1]);
        Assert.Equal(lines.Count, users.Count + letters.Count);
        var far = Assert.Single(letters, l => l.Position.Offset == 2);
        Assert.Equal(RejectionReason.OutOfRange, far.Rejection.Reason);
        Assert.DoesNotContain(letters, l => l.Rejection.Reason == RejectionReason.Unreadable);
    }

    [Fact]
    public void Far_epoch_and_every_other_edge_row_in_a_CSV_file_is_dead_lettered_between_good_ones()
    {
        var rows = new List<string> { "userId,ts,type,amount,label", "first,1763805851,view,,", "u,1e15,view,," };
        rows.AddRange(RecordEdgeCases.NumericEdgeCsv());
        rows.Add("last,1763805851,view,,");
        string path = Write("edges.csv", Encoding.UTF8.GetBytes(string.Join("\n", rows) + "\n"));

        var (users, letters) = ReadAll(path);

        Assert.Equal("first", users[0]);
        Assert.Equal("last", users[^1]);
        Assert.Equal(rows.Count - 1, users.Count + letters.Count);
        var far = Assert.Single(letters, l => l.Position.Offset == 3);
        Assert.Equal(RejectionReason.OutOfRange, far.Rejection.Reason);
        Assert.DoesNotContain(letters, l => l.Rejection.Reason == RejectionReason.Unreadable);
    }
}
