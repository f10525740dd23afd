using System.Diagnostics;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using StreamDetect.Engine.Cli;

namespace StreamDetect.Integration.Tests.Kafka;

/// <summary>`streamdetect kafka-mock` run as a separate process, as a user runs it.</summary>
public sealed class KafkaMockCommandTests
{
    private const int SigInt = 2;

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "streamdetect.dll"));
        info.ArgumentList.Add("kafka-mock");
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        return Process.Start(info)!;
    }

    [Fact]
    public async Task KafkaMock_must_print_its_bootstrap_servers_first_serve_clients_and_stop_on_ctrl_c()
    {
        using var process = Start("--brokers", "2", "--topics", "cli-events:3,cli-alerts");
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string? first = await process.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.NotNull(first);
        Assert.Equal(2, first.Split(',').Length);
        Assert.All(first.Split(','), b => Assert.Matches(@"^127\.0\.0\.1:\d+$", b));

        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = first }).Build())
        {
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
            Assert.Equal(2, metadata.Brokers.Count);
            Assert.Equal(3, metadata.Topics.Single(t => t.Topic == "cli-events").Partitions.Count);
            Assert.Equal(KafkaMockCommand.DefaultPartitions, metadata.Topics.Single(t => t.Topic == "cli-alerts").Partitions.Count);
        }
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = first }).Build())
        {
            var delivered = await producer.ProduceAsync("cli-events", new Message<Null, string> { Value = "{}" }, TestContext.Current.CancellationToken);
            Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        }

        Assert.Equal(0, Kill(process.Id, SigInt));
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("kafka-mock: stopped", await stderr);
    }

    [Theory]
    [InlineData("--topics", "bad:x", "partitions must be a number")]
    [InlineData("--topics", "a b", "NAME[:PARTITIONS]")]
    [InlineData("--brokers", "0", "--brokers must be between 1 and 32")]
    public async Task KafkaMock_must_refuse_bad_options_with_a_clear_error(string option, string value, string error)
    {
        using var process = Start(option, value);
        string stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains(error, stderr);
    }

    [Fact]
    public async Task KafkaMock_help_must_describe_every_option()
    {
        using var process = Start("--help");
        string stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("--brokers", stdout);
        Assert.Contains("--topics", stdout);
        Assert.Contains("Ctrl-C", stdout);
        // The mock's retention limit, so nobody produces more than it keeps without knowing (help text wraps).
        string flat = System.Text.RegularExpressions.Regex.Replace(stdout, @"\s+", " ");
        Assert.Contains("at most 5 MiB of record batches and at most 100,000 batches", flat);
    }

    [Theory]
    [InlineData("a:4,b,c:1", true)]
    [InlineData("a:0", false)]
    [InlineData("a:1:2", false)]
    [InlineData("a,,b", false)]
    public void TopicSpec_parsing(string spec, bool valid) =>
        Assert.Equal(valid, KafkaMockCommand.TryParseTopics(spec, out _, out _));
}
