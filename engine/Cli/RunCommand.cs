using System.CommandLine;
using StreamDetect.Engine.Hosting;
using StreamDetect.Engine.Pipeline;
using Akka.Streams.Dsl;
using StreamDetect.Stages.DeadLetters;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Engine.Cli;

/// <summary>`streamdetect run`: the main job.</summary>
public static class RunCommand
{
    private static readonly Option<string?> Input = new("--input", "-i")
    {
        Description = "Event file to read: JSON Lines, or CSV with a header (or headerless Taobao UserBehavior); '-' reads JSON Lines from stdin. Without it, the built-in generator's default traffic is used",
    };

    private static readonly Option<string?> DeadLetters = new("--dead-letters")
    {
        Description = "JSON Lines file for rejected records (raw record, reason, file:line); created or truncated. Default: count only",
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

    public static Command Create()
    {
        var command = new Command("run",
            "Run the main job: read events, validate them (bad records to dead letters), route them to the persistent per-user state, and print a summary");
        command.Options.Add(Input);
        command.Options.Add(DeadLetters);
        command.Options.Add(SummaryJson);
        command.Options.Add(DataDir);
        command.Options.Add(DumpFeatures);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(token => ExecuteAsync(parse, token), cancellation));
        return command;
    }

    private static async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellation)
    {
        string? dataDir = parse.GetValue(DataDir);
        var config = CommonOptions.LoadConfig(parse, dataDir is null ? null : $"streamdetect.store.data-dir = {HoconString(dataDir)}");
        var validation = ValidationSettings.Create(config);
        var deadLetterSettings = DeadLetterSettings.Create(config);
        string? input = parse.GetValue(Input);
        string? deadLetterPath = parse.GetValue(DeadLetters);
        string? summaryPath = parse.GetValue(SummaryJson);

        if (input is not null && input != "-" && !File.Exists(input))
            throw new UserInputException($"input file '{input}' does not exist");

        var progress = new ReadProgress();
        Source<IngestedEvent, Task<DeadLetterSummary>> source;
        IReadOnlyDictionary<string, string>? truth = null;
        string sourceName;
        if (input is null)
        {
            var generator = new TrafficGenerator(GeneratorSettings.Create(config));
            truth = generator.Truth;
            sourceName = $"generator ({generator.Settings.Users:N0} users, {generator.Settings.Days} days, seed {generator.Settings.Seed})";
            source = EventSources.FromGenerator(generator, progress);
        }
        else
        {
            var fileSettings = FileSourceSettings.Create(config);
            var reader = new RecordFileReader(input, validation.MaxRecordBytes, deadLetterSettings.MaxRawBytes, fileSettings.BufferSize);
            var parser = new EventParser(validation);
            var deadLetterSink = deadLetterPath is null ? DeadLetterFileSink.CountOnly() : DeadLetterFileSink.Create(deadLetterPath, deadLetterSettings);
            source = EventSources.FromFile(reader, parser, deadLetterSink, progress);
            sourceName = input;
            if (TruthFile.FindBeside(input) is { } truthPath) truth = TruthFile.Read(truthPath);
        }

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
            var job = new IngestJob(host);
            IngestResult result;
            using (new ProgressReporter(elapsed => ProgressLine(progress, job, elapsed)))
            {
                try
                {
                    result = await job.RunAsync(
                        source,
                        IngestJob.CountingSink(parse.GetValue(DumpFeatures)),
                        () => progress.Records,
                        cancellation);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UserInputException($"cannot read '{input}': {e.Message}", e);
                }
                catch (FormatException e)
                {
                    throw new UserInputException($"'{input}': {e.Message}", e);
                }
            }
            var summary = RunSummaryBuilder.Build(sourceName, result, host.Settings, truth);
            RunSummaryPrinter.Print(summary, Console.Out);
            if (summary.DeadLetters > 0)
            {
                string where = deadLetterPath is null ? "use --dead-letters FILE to keep them" : $"see {deadLetterPath}";
                Console.Error.WriteLine($"warning: {summary.DeadLetters:N0} records rejected ({new DeadLetterSummary(summary.DeadLetters, summary.DeadLetterReasons).Describe()}); {where}");
            }
            if (summaryPath is not null) summary.WriteTo(summaryPath);
        }
        return 0;
    }

    internal static string HoconString(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string ProgressLine(ReadProgress progress, IngestJob job, TimeSpan elapsed)
    {
        string fraction = progress.Fraction is double f ? $"{f:P0} read, " : "";
        double rate = job.Routing.Accepted / Math.Max(elapsed.TotalSeconds, 1e-9);
        return $"[{elapsed:mm\\:ss}] {fraction}{job.Statistics.Events:N0} events in, {job.Routing.Accepted:N0} persisted ({rate:N0}/s), {job.Routing.Duplicates:N0} replays dropped";
    }
}
