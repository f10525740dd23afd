using System.CommandLine;
using System.Diagnostics;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using StreamDetect.Engine.Pipeline;
using StreamDetect.Stages.DeadLetters;
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

    public static Command Create()
    {
        var command = new Command("run", "Run the main job: read events, validate them (bad records to dead letters) and process them per user; prints a summary");
        command.Options.Add(Input);
        command.Options.Add(DeadLetters);
        command.Options.Add(SummaryJson);
        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(token => ExecuteAsync(parse, token), cancellation));
        return command;
    }

    private static async Task<int> ExecuteAsync(ParseResult parse, CancellationToken cancellation)
    {
        var config = CommonOptions.LoadConfig(parse);
        var validation = ValidationSettings.Create(config);
        var deadLetterSettings = DeadLetterSettings.Create(config);
        string? input = parse.GetValue(Input);
        string? deadLetterPath = parse.GetValue(DeadLetters);
        string? summaryPath = parse.GetValue(SummaryJson);

        if (input is null)
            throw new UserInputException("--input is required until the generator source is available");
        if (input != "-" && !File.Exists(input))
            throw new UserInputException($"input file '{input}' does not exist");

        var fileSettings = FileSourceSettings.Create(config);
        var reader = new RecordFileReader(input, validation.MaxRecordBytes, deadLetterSettings.MaxRawBytes, fileSettings.BufferSize);
        var progress = new ReadProgress();

        using var system = ActorSystem.Create("streamdetect", config);
        var materializer = system.Materializer();
        var statistics = new IngestStatistics();
        var parser = new EventParser(validation);
        var deadLetterSink = deadLetterPath is null ? DeadLetterFileSink.CountOnly() : DeadLetterFileSink.Create(deadLetterPath, deadLetterSettings);

        var clock = Stopwatch.StartNew();
        using (new ProgressReporter(elapsed => ProgressLine(progress, statistics, elapsed)))
        {
            var (deadLettersDone, done) = RecordFileSource.Create(reader, progress)
                .Via(Flow.Create<RawRecord>().Select(parser.Parse))
                .AlsoToMaterialized(
                    Flow.Create<ParsedRecord>().Where(r => r is DeadLetter).Select(r => (DeadLetter)r).ToMaterialized(deadLetterSink, Keep.Right),
                    Keep.Right)
                .Where(r => r is IngestedEvent)
                .ToMaterialized(Sink.ForEach<ParsedRecord>(r => statistics.Add(((IngestedEvent)r).Event)), Keep.Both)
                .Run(materializer);
            try
            {
                await done.WaitAsync(cancellation);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UserInputException($"cannot read '{input}': {e.Message}", e);
            }
            catch (FormatException e)
            {
                throw new UserInputException($"'{input}': {e.Message}", e);
            }
            var deadLetterSummary = await deadLettersDone;
            var result = new IngestResult(progress.Records, statistics, deadLetterSummary, clock.Elapsed);
            var summary = Summarize(input, result);
            PrintSummary(summary, deadLetterPath);
            if (summaryPath is not null) summary.WriteTo(summaryPath);
        }
        await system.Terminate();
        return 0;
    }

    private static string ProgressLine(ReadProgress progress, IngestStatistics statistics, TimeSpan elapsed)
    {
        string fraction = progress.Fraction is double f ? $"{f:P0} read, " : "";
        double rate = statistics.Events / Math.Max(elapsed.TotalSeconds, 1e-9);
        return $"[{elapsed:mm\\:ss}] {fraction}{progress.Records:N0} records, {statistics.Events:N0} valid events, {rate:N0} events/s";
    }

    private static RunSummary Summarize(string source, IngestResult result)
    {
        var s = result.Statistics;
        var summary = new RunSummary
        {
            Source = source,
            EventsIn = result.RecordsIn,
            EventsValid = s.Events,
            DeadLetters = result.DeadLetters.Total,
            DeadLetterReasons = new Dictionary<string, long>(result.DeadLetters.ByReason),
            Users = s.Users,
            ElapsedS = Math.Round(result.Elapsed.TotalSeconds, 3),
            EventsPerS = Math.Round(s.Events / Math.Max(result.Elapsed.TotalSeconds, 1e-9)),
            EventTypes = s.PerType.OrderByDescending(p => p.Value).ToDictionary(p => p.Key, p => p.Value),
        };
        if (s.LabelledEvents > 0)
        {
            summary.LabelledEvents = s.LabelledEvents;
            summary.LabelledAnomalousUsers = s.LabelledAnomalousUsers.Count;
        }
        string? truthPath = TruthFile.FindBeside(source);
        if (truthPath is not null)
        {
            var truth = TruthFile.Read(truthPath);
            summary.AnomalousUsersPerScenario = truth.Values.Where(v => v != "normal")
                .GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        }
        return summary;
    }

    private static void PrintSummary(RunSummary s, string? deadLetterPath)
    {
        var o = Console.Out;
        o.WriteLine($"source            {s.Source}");
        o.WriteLine($"events in         {s.EventsIn:N0}");
        o.WriteLine($"events valid      {s.EventsValid:N0}");
        o.WriteLine($"dead letters      {s.DeadLetters:N0}");
        o.WriteLine($"users             {s.Users:N0}");
        o.WriteLine($"elapsed           {s.ElapsedS:N1} s ({s.EventsPerS:N0} events/s)");
        o.WriteLine("events per type");
        foreach (var (type, count) in s.EventTypes) o.WriteLine($"  {type,-16}{count,12:N0}");
        if (s.AnomalousUsersPerScenario is { } scenarios)
        {
            o.WriteLine("anomalous users per scenario (truth file)");
            foreach (var (scenario, count) in scenarios) o.WriteLine($"  {scenario,-20}{count,8:N0}");
        }
        else if (s.LabelledAnomalousUsers is int labelled)
        {
            o.WriteLine($"users with label 1 {labelled:N0}");
        }
        if (s.DeadLetters > 0)
        {
            string where = deadLetterPath is null ? "use --dead-letters FILE to keep them" : $"see {deadLetterPath}";
            Console.Error.WriteLine($"warning: {s.DeadLetters:N0} records rejected ({Describe(s.DeadLetterReasons)}); {where}");
        }
    }

    private static string Describe(Dictionary<string, long> reasons) =>
        new DeadLetterSummary(reasons.Values.Sum(), reasons).Describe();
}
