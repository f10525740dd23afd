using StreamDetect.Engine.Configuration;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Kafka.Mock;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// `streamdetect kafka-mock`: runs librdkafka's in-process mock Kafka cluster until Ctrl-C/SIGTERM, so
/// kcat, Confluent clients or the engine (`--config kafka.conf`) can be pointed at it without a broker.
/// The first line of stdout is the bootstrap servers, alone, for scripts; the rest goes to stderr.
/// </summary>
public static partial class KafkaMockCommand
{
    /// <summary>Partitions of a configured topic created without an explicit count.</summary>
    public const int DefaultPartitions = 4;

    private static readonly Option<int> Brokers = new("--brokers")
    {
        Description = "Number of mock brokers (1-32); topics are replicated on up to 3 of them",
        DefaultValueFactory = _ => 3,
    };

    private static readonly Option<string[]> Topics = new("--topics")
    {
        Description = "Topics to create, as NAME[:PARTITIONS],... (repeatable); default: the topics named in "
            + $"streamdetect.kafka (events, alerts, dead letters, feedback) with {DefaultPartitions} partitions each",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    static KafkaMockCommand()
    {
        Brokers.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 32) result.AddError($"--brokers must be between 1 and 32 (got {value})");
        });
        Topics.Validators.Add(result =>
        {
            foreach (string spec in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (TryParseTopics(spec, out _, out string? error)) continue;
                result.AddError(error!);
                return;
            }
        });
    }

    public static Command Create()
    {
        var command = new Command("kafka-mock",
            "Run an in-process mock Kafka cluster (librdkafka's) until Ctrl-C. Prints its bootstrap servers on the "
            + "first line of stdout; point kcat (kcat -b SERVERS -L) or the engine (--config kafka.conf with "
            + "streamdetect.kafka.bootstrap-servers) at it. For development and tests: data lives in memory only. "
            + "Retention: each partition keeps at most 5 MiB of record batches and at most 100,000 batches "
            + "(librdkafka's fixed limits; no option raises them): producing more drops the oldest records, and a "
            + "consumer that starts later reports them as lost to retention. With kcat's default batching, about "
            + "25,000 generated events fit in one partition; spread larger volumes over more partitions (--topics NAME:N).");
        command.Options.Add(Brokers);
        command.Options.Add(Topics);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token => RunAsync(parse, token), cancellation));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellation)
    {
        int brokers = parse.GetValue(Brokers);
        var topics = new List<(string Name, int Partitions)>();
        string[] specs = parse.GetValue(Topics) ?? [];
        if (specs.Length == 0)
        {
            var config = CommonOptions.LoadConfig(parse);
            var consumer = KafkaConsumerSettings.Create(config);
            var feedback = KafkaConsumerSettings.Create(config, KafkaConsumerSettings.FeedbackPath);
            var producer = KafkaProducerSettings.Create(config);
            foreach (string name in consumer.Topics.Concat(feedback.Topics).Append(producer.AlertsTopic).Append(producer.DeadLettersTopic).Distinct())
                topics.Add((name, DefaultPartitions));
        }
        foreach (string spec in specs)
        {
            if (!TryParseTopics(spec, out var parsed, out string? error)) throw new UserInputException(error!);
            topics.AddRange(parsed);
        }

        using var cluster = KafkaMockCluster.Start(brokers);
        cluster.SetGroupInitialRebalanceDelay(TimeSpan.FromMilliseconds(100));
        foreach (var (name, partitions) in topics)
            cluster.CreateTopic(name, partitions, replicationFactor: Math.Min(3, brokers));

        Console.Out.WriteLine(cluster.BootstrapServers);
        Console.Out.Flush();
        Console.Error.WriteLine($"kafka-mock: {brokers} broker(s) at {cluster.BootstrapServers}");
        Console.Error.WriteLine($"kafka-mock: topics {string.Join(", ", topics.Select(t => $"{t.Name}({t.Partitions})"))}");
        Console.Error.WriteLine($"kafka-mock: retention {KafkaMockCluster.RetainedBytesPerPartition / 1048576} MiB or {KafkaMockCluster.RetainedBatchesPerPartition:N0} record batches per partition (the oldest are dropped beyond it)");
        Console.Error.WriteLine($"kafka-mock: librdkafka {KafkaMockCluster.LibraryPath}; Ctrl-C to stop");

        try
        {
            await Task.Delay(Timeout.Infinite, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM: the normal way to stop a server.
        }
        Console.Error.WriteLine("kafka-mock: stopped");
        return 0;
    }

    /// <summary>Parses "a:4,b,c:1" into topics; the error names the bad part.</summary>
    internal static bool TryParseTopics(string spec, out List<(string Name, int Partitions)> topics, out string? error)
    {
        topics = [];
        error = null;
        foreach (string part in spec.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                error = $"--topics '{spec}': empty topic name";
                return false;
            }
            string[] pieces = part.Split(':');
            string name = pieces[0];
            int partitions = DefaultPartitions;
            if (pieces.Length > 2 || !TopicName().IsMatch(name))
            {
                error = $"--topics '{part}': expected NAME[:PARTITIONS] with NAME of letters, digits, '.', '_', '-' (at most 249)";
                return false;
            }
            if (pieces.Length == 2 && (!int.TryParse(pieces[1], out partitions) || partitions is < 1 or > 1000))
            {
                error = $"--topics '{part}': partitions must be a number from 1 to 1000";
                return false;
            }
            topics.Add((name, partitions));
        }
        return true;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,249}$")]
    private static partial Regex TopicName();
}
