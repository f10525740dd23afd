using System.CommandLine;
using System.Text;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Kafka;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Engine.Cli;

/// <summary>`streamdetect run`: the main job.</summary>
public static class RunCommand
{
    private static readonly Option<string?> Input = new("--input", "-i")
    {
        Description = "Event file to read: JSON Lines, or CSV with a header (or headerless Taobao UserBehavior); '-' reads JSON Lines from stdin. Without it (and without --source kafka), the built-in generator's traffic is used",
    };

    private static readonly Option<string?> SourceKind = new("--source")
    {
        Description = "Where events come from: file (--input), generator, or kafka (streamdetect.kafka.consumer; see --bootstrap, --topic, --group). Default: file when --input is given, else generator",
    };

    private static readonly Option<string?> DeadLetters = new("--dead-letters")
    {
        Description = "JSON Lines file for rejected records (raw record, reason, file:line); created or truncated. Default: count only (or the Kafka dead-letter topic with --source kafka and --dead-letter-topic)",
    };

    private static readonly Option<string?> SummaryJson = new("--summary-json")
    {
        Description = "Also write the run's summary as JSON to this file",
    };

    private static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = "Directory of the embedded store (SQLite) for per-user state; default ./data (streamdetect.store.data-dir)",
    };

    private static readonly Option<string?> DumpFeatures = new("--dump-features")
    {
        Description = "Write every scoring request's feature vector as JSON Lines to this file (for inspection)",
    };

    private static readonly Option<string?> Bootstrap = new("--bootstrap")
    {
        Description = "Kafka bootstrap servers HOST:PORT[,...] (streamdetect.kafka.bootstrap-servers)",
    };

    private static readonly Option<string?> Topic = new("--topic")
    {
        Description = "Kafka topic to consume events from (streamdetect.kafka.consumer.topics)",
    };

    private static readonly Option<string?> Group = new("--group")
    {
        Description = "Kafka consumer group (streamdetect.kafka.consumer.group-id); engines in one group split the partitions",
    };

    private static readonly Option<string?> AlertsTopic = new("--alerts-topic")
    {
        Description = "Kafka topic for alerts (streamdetect.kafka.producer.alerts-topic)",
    };

    private static readonly Option<string?> DeadLetterTopic = new("--dead-letter-topic")
    {
        Description = "Kafka topic for rejected records; with --source kafka, dead letters go there and their offsets are committed once written",
    };

    private static readonly Option<double?> StopAfterIdle = new("--stop-after-idle")
    {
        Description = "With --source kafka: finish cleanly (drain, commit, summary) once no record arrived for this many seconds. Default: run until Ctrl-C",
    };

    public static Command Create()
    {
        var command = new Command("run",
            "Run the main job: read events (file, generator or Kafka), validate them (bad records to dead letters), route them to the persistent per-user state, and print a summary");
        foreach (var option in new Option[] { Input, SourceKind, DeadLetters, SummaryJson, DataDir, DumpFeatures, Bootstrap, Topic, Group, AlertsTopic, DeadLetterTopic, StopAfterIdle })
            command.Options.Add(option);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(token => ExecuteAsync(parse, token), cancellation));
        return command;
    }

    /// <summary>HOCON overrides for the options that mirror settings.</summary>
    private static string Overrides(ParseResult parse)
    {
        var hocon = new StringBuilder();
        void Set(string key, string? value)
        {
            if (value is not null) hocon.Append(key).Append(" = ").Append(HoconString(value)).Append('\n');
        }
        Set("streamdetect.store.data-dir", parse.GetValue(DataDir));
        Set("streamdetect.source", parse.GetValue(SourceKind));
        Set("streamdetect.kafka.bootstrap-servers", parse.GetValue(Bootstrap));
        if (parse.GetValue(Bootstrap) is string servers)
        {
            Set("streamdetect.kafka.consumer.bootstrap-servers", servers);
            Set("streamdetect.kafka.producer.bootstrap-servers", servers);
        }
        if (parse.GetValue(Topic) is string topic) hocon.Append($"streamdetect.kafka.consumer.topics = [{HoconString(topic)}]\n");
        Set("streamdetect.kafka.consumer.group-id", parse.GetValue(Group));
        Set("streamdetect.kafka.producer.alerts-topic", parse.GetValue(AlertsTopic));
        if (parse.GetValue(DeadLetterTopic) is string dlq)
        {
            Set("streamdetect.kafka.producer.dead-letters-topic", dlq);
            Set("streamdetect.dead-letters.sink", "kafka");
        }
        return hocon.ToString();
    }

    private static async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellation)
    {
        var config = CommonOptions.LoadConfig(parse, Overrides(parse));
        var run = RunSettings.Create(config);
        var validation = ValidationSettings.Create(config);
        var deadLetterSettings = DeadLetterSettings.Create(config);
        string? input = parse.GetValue(Input);
        string? deadLetterPath = parse.GetValue(DeadLetters);
        string? summaryPath = parse.GetValue(SummaryJson);
        double? stopAfterIdle = parse.GetValue(StopAfterIdle);

        string source = run.Source == "auto" ? (input is null ? "generator" : "file") : run.Source;
        if (source == "file" && input is null) throw new UserInputException("--source file needs --input FILE");
        if (source != "file" && input is not null) throw new UserInputException($"--input is only read with --source file (the source is {source})");
        if (input is not null && input != "-" && !File.Exists(input)) throw new UserInputException($"input file '{input}' does not exist");
        if (stopAfterIdle is double idle && (source != "kafka" || idle <= 0))
            throw new UserInputException("--stop-after-idle takes a positive number of seconds and applies to --source kafka only");
        string deadLetterSink = run.DeadLetterSink == "auto" ? (deadLetterPath is null ? "count" : "file") : run.DeadLetterSink;
        if (deadLetterSink == "file" && deadLetterPath is null) throw new UserInputException("streamdetect.dead-letters.sink = file needs --dead-letters FILE");
        if (deadLetterSink == "kafka" && source != "kafka") throw new UserInputException("dead letters go to Kafka only with --source kafka; use --dead-letters FILE");

        EngineHost host;
        try
        {
            host = await EngineHost.StartAsync(config, cluster: true, cancellation);
        }
        catch (InvalidOperationException e)
        {
            throw new UserInputException(e.Message, e);
        }
        await using (host)
        {
            var materializer = host.System.Materializer();
            var progress = new ReadProgress();
            var parser = new EventParser(validation);
            Source<IngestedEvent, Task<DeadLetterSummary>> events;
            IReadOnlyDictionary<string, string>? truth = null;
            string sourceName;
            KafkaEventSource? kafka = null;
            switch (source)
            {
                case "generator":
                {
                    var generator = new TrafficGenerator(GeneratorSettings.Create(config));
                    truth = generator.Truth;
                    sourceName = $"generator ({generator.Settings.Users:N0} users, {generator.Settings.Days} days, seed {generator.Settings.Seed})";
                    events = EventSources.FromGenerator(generator, progress);
                    break;
                }
                case "kafka":
                {
                    var consumer = KafkaConsumerSettings.Create(config);
                    var producer = deadLetterSink == "kafka" ? KafkaProducerSettings.Create(config) : null;
                    kafka = new KafkaEventSource(consumer, producer, parser, deadLetterSettings.MaxRawBytes, materializer);
                    sourceName = $"kafka {string.Join(",", consumer.Topics)} @ {consumer.BootstrapServers} (group {consumer.GroupId})";
                    events = kafka.Events(progress);
                    break;
                }
                default:
                {
                    var fileSettings = FileSourceSettings.Create(config);
                    var reader = new RecordFileReader(input!, validation.MaxRecordBytes, deadLetterSettings.MaxRawBytes, fileSettings.BufferSize);
                    var sink = deadLetterSink == "file" ? DeadLetterFileSink.Create(deadLetterPath!, deadLetterSettings) : DeadLetterFileSink.CountOnly();
                    events = EventSources.FromFile(reader, parser, sink, progress);
                    sourceName = input!;
                    if (TruthFile.FindBeside(input!) is { } truthPath) truth = TruthFile.Read(truthPath);
                    break;
                }
            }

            var job = new IngestJob(host);
            IngestResult result;
            using (new ProgressReporter(elapsed => ProgressLine(progress, job, elapsed)))
            {
                try
                {
                    // A Kafka run is stopped by draining (below), never by abandoning the stream mid-flight.
                    var running = job.RunAsync(events, IngestJob.CountingSink(parse.GetValue(DumpFeatures)), () => progress.Records,
                        kafka is null ? cancellation : CancellationToken.None, kafka?.Acks());
                    if (kafka is not null) result = await RunKafkaAsync(kafka, running, stopAfterIdle, cancellation);
                    else result = await running;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException && input is not null)
                {
                    throw new UserInputException($"cannot read '{input}': {e.Message}", e);
                }
                catch (FormatException e) when (input is not null)
                {
                    throw new UserInputException($"'{input}': {e.Message}", e);
                }
            }
            var summary = RunSummaryBuilder.Build(sourceName, result, host.Settings, truth);
            RunSummaryPrinter.Print(summary, Console.Out);
            if (summary.DeadLetters > 0)
            {
                string where = deadLetterSink switch
                {
                    "file" => $"see {deadLetterPath}",
                    "kafka" => "see the dead-letter topic",
                    _ => "use --dead-letters FILE to keep them",
                };
                Console.Error.WriteLine($"warning: {summary.DeadLetters:N0} records rejected ({new DeadLetterSummary(summary.DeadLetters, summary.DeadLetterReasons).Describe()}); {where}");
            }
            if (summaryPath is not null) summary.WriteTo(summaryPath);
        }
        return 0;
    }

    /// <summary>
    /// A Kafka run ends on Ctrl-C, or after --stop-after-idle seconds without a record: the consumer
    /// stops emitting, the pipeline finishes what is in flight, the last offsets are committed, and the
    /// consumer leaves its group.
    /// </summary>
    private static async Task<IngestResult> RunKafkaAsync(KafkaEventSource kafka, Task<IngestResult> running, double? stopAfterIdle, CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var idleWatch = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(200, stop.Token);
                if (stopAfterIdle is double idle && kafka.IdleMilliseconds >= idle * 1000) return;
            }
        }, CancellationToken.None);

        var first = await Task.WhenAny(running, idleWatch);
        if (first != running)
        {
            await kafka.StopAsync();
            Console.Error.WriteLine(cancellation.IsCancellationRequested ? "stopping: draining and committing" : $"no record for {stopAfterIdle} s: draining and committing");
        }
        stop.Cancel();
        IngestResult result;
        try
        {
            result = await running.WaitAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        }
        finally
        {
            await kafka.CompleteAsync();
        }
        return result;
    }

    internal static string HoconString(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string ProgressLine(ReadProgress progress, IngestJob job, TimeSpan elapsed)
    {
        string fraction = progress.Fraction is double f ? $"{f:P0} read, " : "";
        double rate = job.Routing.Accepted / Math.Max(elapsed.TotalSeconds, 1e-9);
        return $"[{elapsed:mm\\:ss}] {fraction}{job.Statistics.Events:N0} events in, {job.Routing.Accepted:N0} persisted ({rate:N0}/s), {job.Routing.Duplicates:N0} replays dropped";
    }
}
