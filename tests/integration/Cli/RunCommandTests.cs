using System.Text;
using System.Text.Json;
using StreamDetect.Integration.Tests.Support;
using StreamDetect.Models.Events;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Integration.Tests.Cli;

/// <summary>`streamdetect run` as a new user runs it: a separate process, real files.</summary>
public sealed class RunCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>1,000 bad lines of every kind the issue names, as (line bytes, expected reason).</summary>
    private static List<(byte[] Line, string Reason)> BadLines()
    {
        var random = new Random(17);
        var bad = new List<(byte[], string)>();
        for (int i = 0; i < 1000; i++)
        {
            (string? text, byte[]? bytes, string reason) = (i % 10) switch
            {
                0 => ((string?)"{\"userId\":\"u-x\",\"ts\":\"2026-11-02T10:00:00Z\",\"type\":\"view\"", (byte[]?)null, "malformed_json"),
                1 => ((string?)"{\"ts\":\"2026-11-02T10:00:00Z\",\"type\":\"view\"}", (byte[]?)null, "missing_field"),
                2 => ((string?)"{\"userId\":\"u-x\",\"type\":\"view\"}", (byte[]?)null, "missing_field"),
                3 => ((string?)"{\"userId\":\"u-x\",\"ts\":\"2026-11-02T10:00:00Z\"}", (byte[]?)null, "missing_field"),
                4 => ((string?)"{\"userId\":\"u-x\",\"ts\":\"last tuesday\",\"type\":\"view\"}", (byte[]?)null, "invalid_timestamp"),
                5 => ((string?)"{\"userId\":\"u-x\",\"ts\":\"1970-01-01T00:00:00Z\",\"type\":\"view\"}", (byte[]?)null, "out_of_range"),
                6 => ((string?)null, (byte[]?)OversizeLine(i), "oversize"),
                7 => ((string?)null, (byte[]?)Junk(random), "invalid_encoding"),
                8 => ((string?)"<html>not an event</html>", (byte[]?)null, "malformed_json"),
                _ => ((string?)"{\"userId\":\"u-x\",\"ts\":\"2026-11-02T10:00:00Z\",\"type\":\"purchase\",\"amount\":-3}", (byte[]?)null, "out_of_range"),
            };
            bad.Add((bytes ?? Encoding.UTF8.GetBytes(text!), reason));
        }
        return bad;
    }

    private static byte[] OversizeLine(int i) =>
        Encoding.UTF8.GetBytes("{\"userId\":\"u-big\",\"ts\":\"2026-11-02T10:00:00Z\",\"type\":\"view\",\"query\":\"" + new string((char)('a' + i % 26), 1_000_000) + "\"}");

    private static byte[] Junk(Random random)
    {
        var bytes = new byte[40 + random.Next(200)];
        random.NextBytes(bytes);
        for (int k = 0; k < bytes.Length; k++) if (bytes[k] == (byte)'\n') bytes[k] = 0xff;
        bytes[0] = 0xfe; // never valid UTF-8
        return bytes;
    }

    [Fact]
    public async Task Malformed_lines_among_100k_good_events_go_to_the_dead_letters_and_every_good_event_is_counted()
    {
        using var dir = new TempDirectory();
        var random = new Random(5);
        var bad = BadLines();
        var badAt = new Dictionary<long, string>();
        string input = dir.File("mixed.jsonl");
        int good = 0;
        using (var file = File.Create(input))
        {
            long line = 0;
            int nextBad = 0;
            long t = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            while (good < 100_000 || nextBad < bad.Count)
            {
                line++;
                bool writeBad = nextBad < bad.Count && (good >= 100_000 || random.Next(101) == 0);
                byte[] bytes;
                if (writeBad)
                {
                    (bytes, string reason) = bad[nextBad++];
                    badAt[line] = reason;
                }
                else
                {
                    t += random.Next(50);
                    bytes = UserEventJson.ToUtf8(new UserEvent($"u-{random.Next(5000)}", t, EventTypes.View) { Item = "sku-1" });
                    good++;
                }
                file.Write(bytes);
                file.WriteByte((byte)'\n');
            }
        }

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout,
            "run", "--ingest-only", "--input", input, "--dead-letters", dir.File("dead.jsonl"), "--summary-json", dir.File("summary.json"), "--data-dir", dir.File("data"));

        Assert.True(code == 0, stderr);
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("summary.json"), TestContext.Current.CancellationToken));
        Assert.Equal(100_000, summary.RootElement.GetProperty("events_valid").GetInt64());
        Assert.Equal(101_000, summary.RootElement.GetProperty("events_in").GetInt64());
        Assert.Equal(1_000, summary.RootElement.GetProperty("dead_letters").GetInt64());
        Assert.Equal(100_000, summary.RootElement.GetProperty("entities").GetProperty("events_persisted").GetInt64());

        var letters = File.ReadAllLines(dir.File("dead.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(1_000, letters.Count);
        foreach (var letter in letters)
        {
            long line = letter.GetProperty("offset").GetInt64();
            Assert.True(badAt.TryGetValue(line, out string? reason), $"line {line} was not a bad line");
            Assert.Equal(reason, letter.GetProperty("reason").GetString());
            Assert.EndsWith($"mixed.jsonl:{line}", letter.GetProperty("position").GetString());
            Assert.False(string.IsNullOrEmpty(letter.GetProperty("detail").GetString()));
            Assert.True(letter.TryGetProperty("raw", out _) || letter.TryGetProperty("rawBase64", out _));
        }
        Assert.Equal(badAt.Keys.Order(), letters.Select(l => l.GetProperty("offset").GetInt64()).Order());
        Assert.All(letters.Where(l => l.GetProperty("reason").GetString() == "oversize"),
            l => Assert.True(l.GetProperty("rawTruncated").GetBoolean() && l.GetProperty("rawBytes").GetInt64() > 1_000_000));

        var warnings = stderr.Split('\n').Where(l => l.StartsWith("warning:", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings);
        Assert.Contains("1,000 records rejected", warnings[0]);
        Assert.Contains("events valid        100,000", stdout);
    }

    [Fact]
    public async Task The_default_run_trains_streams_and_reports_alerts_and_quality_per_scenario()
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("small.conf"), "streamdetect.generator { users = 400, days = 3 }\nstreamdetect.run.train-days = 1\n", TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, "run", "--config", dir.File("small.conf"), "--summary-json", dir.File("summary.json"));

        Assert.True(code == 0, stderr);
        // Alerts go to stdout, one JSON object per line; the report goes to stderr.
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var alert = JsonDocument.Parse(line);
            Assert.StartsWith("al-", alert.RootElement.GetProperty("alertId").GetString());
        }
        Assert.Contains("generator (400 users, 3 days, seed 7)", stderr);
        Assert.Contains("[training]", stderr);
        Assert.Contains("events per type", stderr);
        Assert.Contains("anomalous users per scenario", stderr);
        Assert.Contains("precision", stderr);
        foreach (string scenario in new[] { "scraper_bot", "card_testing", "account_takeover", "order_brushing", "review_spam", "coupon_abuse", "implausible_order" })
            Assert.Contains(scenario, stderr);
        Assert.True(File.Exists(Path.Combine(dir.Path, "data", "streamdetect.db")), "the embedded store is ./data by default");
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "data", "models"), "*.sdm"));

        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(dir.File("summary.json"), TestContext.Current.CancellationToken));
        var root = summary.RootElement;
        Assert.True(root.GetProperty("alerts").GetInt64() >= 0);
        Assert.InRange(root.GetProperty("precision").GetDouble(), 0, 1);
        Assert.InRange(root.GetProperty("recall").GetDouble(), 0, 1);
        Assert.True(root.GetProperty("scoring").GetProperty("requests_scored").GetInt64() > 0);
    }

    [Theory]
    [InlineData("run --input no-such-file.jsonl", "input file 'no-such-file.jsonl' does not exist")]
    [InlineData("run --feedback no-such-labels.jsonl", "feedback file 'no-such-labels.jsonl' does not exist")]
    [InlineData("run --config bad.conf --input in.jsonl", "streamdetect.validation.max-record-bytes")]
    [InlineData("run --config broken.conf", "config file")] // an unclosed brace: refused, not silently ignored
    [InlineData("state dump --data-dir empty --out x.jsonl", "not a StreamDetect data directory")]
    [InlineData("run --rate -5", "--rate must be 0")] // the option is named, not only the HOCON key it sets
    public async Task Mistakes_give_exit_code_2_and_one_line_naming_the_problem(string arguments, string expected)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("bad.conf"), "streamdetect.validation.max-record-bytes = lots\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(dir.File("broken.conf"), "streamdetect { validation { \n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(dir.File("in.jsonl"), "", TestContext.Current.CancellationToken);
        Directory.CreateDirectory(dir.File("empty"));

        var (code, _, stderr) = await EngineProcess.RunAsync(dir.Path, Timeout, arguments.Split(' '));

        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
    }

    [Theory]
    [InlineData("run", "--dead-letters")]
    [InlineData("gen", "--anomaly-rate")]
    [InlineData("state dump", "--data-dir")]
    [InlineData("kafka-mock", "--brokers")]
    public async Task Every_command_documents_its_options(string command, string option)
    {
        var (code, stdout, _) = await EngineProcess.RunAsync(null, Timeout, [.. command.Split(' '), "--help"]);
        Assert.Equal(0, code);
        Assert.Contains(option, stdout);
        Assert.Contains("--config", stdout);
    }
}
