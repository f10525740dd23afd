using StreamDetect.Engine.Configuration;
using System.CommandLine;
using System.Globalization;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// `streamdetect gen`: writes realistic, labelled e-commerce traffic as JSON Lines, with a per-user truth
/// file beside it. Unset options take the defaults of the `streamdetect.generator` HOCON block.
/// </summary>
public static class GenCommand
{
    public static Command Create()
    {
        var users = new Option<string?>("--users")
        {
            Description = "Number of simulated users [default: streamdetect.generator.users, 10000]",
            HelpName = "N",
        };
        var days = new Option<string?>("--days")
        {
            Description = "Length of the simulated period in days [default: streamdetect.generator.days, 7]",
            HelpName = "D",
        };
        var anomalyRate = new Option<string?>("--anomaly-rate")
        {
            Description = "Fraction of users that are anomalous, in [0, 1], spread evenly over the anomaly scenarios (--scenarios) " +
                "[default: streamdetect.generator.anomaly-rate, 0.02]",
            HelpName = "R",
        };
        var seed = new Option<string?>("--seed")
        {
            Description = "Random seed; the same seed and options give a byte-identical file [default: streamdetect.generator.seed, 7]",
            HelpName = "S",
        };
        var start = new Option<string?>("--start")
        {
            Description = "Start of the period, ISO 8601 (UTC unless an offset is given) " +
                "[default: streamdetect.generator.start, 2026-11-01T00:00:00Z]",
            HelpName = "ISO8601",
        };
        var scenarios = new Option<string?>("--scenarios")
        {
            Description = "Anomaly scenarios to generate, comma-separated, each once, in the order anomalous users are allotted to them " +
                $"(equal shares) [default: streamdetect.generator.scenarios, all: {string.Join(",", Scenarios.Anomalous)}]",
            HelpName = "LIST",
        };
        var output = new Option<string?>("--out")
        {
            Description = "Output JSON Lines file, or - for stdout (required). The truth file goes to FILE.truth.json unless --truth is given",
            HelpName = "FILE",
        };
        var truth = new Option<string?>("--truth")
        {
            Description = "Per-user truth file (one JSON object: userId -> scenario or \"normal\") " +
                "[default: FILE.truth.json; with --out -, written only when given]",
            HelpName = "FILE",
        };

        var command = new Command("gen",
            "Generate realistic, labelled e-commerce traffic (JSON Lines): normal shoppers plus anomalous users " +
            "(scraper_bot, card_testing, account_takeover, order_brushing, review_spam, coupon_abuse, implausible_order, " +
            "and three whose anomaly is in how sessions end or in counts: abandoned_takeover, checkout_loop, event_burst); " +
            "every event carries label 0/1.");
        command.Options.Add(users);
        command.Options.Add(days);
        command.Options.Add(anomalyRate);
        command.Options.Add(seed);
        command.Options.Add(start);
        command.Options.Add(scenarios);
        command.Options.Add(output);
        command.Options.Add(truth);

        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token =>
        {
            var settings = GeneratorSettings.Create(CommonOptions.LoadConfig(parse));
            settings = Apply(settings, parse.GetValue(users), parse.GetValue(days), parse.GetValue(anomalyRate),
                parse.GetValue(seed), parse.GetValue(start), parse.GetValue(scenarios));
            string outPath = parse.GetValue(output) is { Length: > 0 } o
                ? o
                : throw new UserInputException("--out is required: a file path, or - for stdout");
            string? truthPath = parse.GetValue(truth) is { Length: > 0 } t ? t
                : outPath == "-" ? null : GeneratedTrafficWriter.TruthPathFor(outPath);
            return Task.FromResult(Run(settings, outPath, truthPath, token));
        }, cancellation));
        return command;
    }

    // Numbers are parsed here rather than by System.CommandLine so that a bad value is a usage error like any
    // other (one line on stderr, exit code 2, stdout untouched).
    private static GeneratorSettings Apply(GeneratorSettings settings, string? usersText, string? daysText, string? rateText, string? seedText, string? start,
        string? scenariosText)
    {
        int? users = usersText is null ? null : ParseInt(usersText, "--users");
        int? days = daysText is null ? null : ParseInt(daysText, "--days");
        int? seed = seedText is null ? null : ParseInt(seedText, "--seed");
        double? rate = null;
        if (rateText is not null)
        {
            rate = double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)
                ? parsed
                : throw new UserInputException($"--anomaly-rate '{rateText}' is not a number (a fraction in [0, 1], e.g. 0.02)");
        }
        if (users is int u)
        {
            if (u <= 0) throw new UserInputException($"--users must be a positive number of users (got {u})");
            settings = settings with { Users = u };
        }
        if (days is int d)
        {
            if (d is <= 0 or > 3660) throw new UserInputException($"--days must be a positive number of days, at most 3660 (got {d})");
            settings = settings with { Days = d };
        }
        if (rate is double r)
        {
            if (!(r is >= 0 and <= 1)) throw new UserInputException($"--anomaly-rate must be a fraction in [0, 1] (got {r.ToString(CultureInfo.InvariantCulture)})");
            settings = settings with { AnomalyRate = r };
        }
        if (seed is int s) settings = settings with { Seed = s };
        if (start is not null)
        {
            if (!DateTimeOffset.TryParse(start, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
                || time.UtcDateTime.Year is < 1971 or > 9000)
            {
                throw new UserInputException($"--start '{start}' is not an ISO 8601 time (e.g. 2026-11-01T00:00:00Z)");
            }
            settings = settings with { Start = time.UtcDateTime };
        }
        if (scenariosText is not null)
        {
            var list = scenariosText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (GeneratorSettings.ScenarioProblem(list) is { } problem) throw new UserInputException($"--scenarios {problem}");
            settings = settings with { AnomalyScenarios = list };
        }
        return settings;
    }

    private static int ParseInt(string text, string option) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new UserInputException($"{option} '{text}' is not a whole number");

    private static int Run(GeneratorSettings settings, string outPath, string? truthPath, CancellationToken cancellation)
    {
        bool toStdout = outPath == "-";
        var generator = new TrafficGenerator(settings);

        // Open both files before generating anything, so a bad path fails at once, not after minutes.
        using Stream events = toStdout ? Console.OpenStandardOutput() : OpenForWriting(outPath, "--out");
        Stream? opened = null;
        try
        {
            opened = truthPath is null ? null : OpenForWriting(truthPath, "--truth");
        }
        catch (UserInputException)
        {
            events.Dispose();
            if (!toStdout) File.Delete(outPath); // leave nothing half-made behind
            throw;
        }
        using Stream? truthStream = opened;

        if (truthStream is not null)
        {
            Guard(truthPath!, () => GeneratedTrafficWriter.WriteTruth(generator.Truth, truthStream));
        }
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gen: {settings.Users:N0} users, {settings.Days} day{(settings.Days == 1 ? "" : "s")} from {settings.Start:yyyy-MM-ddTHH:mm:ssZ}, anomaly rate {settings.AnomalyRate} over {settings.AnomalyScenarios.Count} scenarios, seed {settings.Seed} -> {(toStdout ? "stdout" : outPath)}"));

        GenerationSummary summary = null!;
        Guard(toStdout ? "stdout" : outPath, () => summary = GeneratedTrafficWriter.WriteEvents(generator, events,
            (written, elapsed) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gen: {written:N0} events, {written / Math.Max(elapsed.TotalSeconds, 1e-9):N0} events/s")),
            TimeSpan.FromSeconds(2), cancellation));

        Console.Error.WriteLine("gen: " + summary);
        if (truthPath is not null) Console.Error.WriteLine($"gen: truth -> {truthPath}");
        return 0;
    }

    private static FileStream OpenForWriting(string path, string option)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UserInputException($"{option}: cannot write '{path}': {e.Message}", e);
        }
    }

    private static void Guard(string path, Action write)
    {
        try
        {
            write();
        }
        catch (IOException e)
        {
            throw new UserInputException($"writing '{path}' failed: {e.Message}", e);
        }
    }
}
