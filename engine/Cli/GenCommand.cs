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
        var driftShare = new Option<string?>("--drift-share")
        {
            Description = "Benign drift: share of users, in [0, 1], whose sessions follow a product release from --drift-day on " +
                "(new event types assistant and express_checkout, new paths through the funnel, another pace; still labelled normal); " +
                "0 = off [default: streamdetect.generator.drift.share, 0]",
            HelpName = "F",
        };
        var driftDay = new Option<string?>("--drift-day")
        {
            Description = "Day of the period (0 = the first) at whose midnight UTC the release lands, in [1, days - 1] " +
                "[default: streamdetect.generator.drift.day, 5]",
            HelpName = "D",
        };
        var driftPace = new Option<string?>("--drift-pace")
        {
            Description = "Factor on the gaps between events of a released session, in (0, 10] [default: streamdetect.generator.drift.pace, 0.7]",
            HelpName = "F",
        };
        var poisoningRate = new Option<string?>("--poisoning-rate")
        {
            Description = "Slow poisoning: fraction of users, in [0, 1], that move session by session toward an attack while labelled normal, " +
                "then strike (poisoning_account_takeover, poisoning_card_testing; the strike labelled anomalous); 0 = off " +
                "[default: streamdetect.generator.poisoning.rate, 0]",
            HelpName = "R",
        };
        var poisoningStrikeDay = new Option<string?>("--poisoning-strike-day")
        {
            Description = "Day of the period (0 = the first) from whose midnight UTC the poisoners strike, in [1, days - 1] " +
                "[default: streamdetect.generator.poisoning.strike-day, 5]",
            HelpName = "D",
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
        command.Options.Add(driftShare);
        command.Options.Add(driftDay);
        command.Options.Add(driftPace);
        command.Options.Add(poisoningRate);
        command.Options.Add(poisoningStrikeDay);
        command.Options.Add(output);
        command.Options.Add(truth);

        command.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token =>
        {
            var settings = GeneratorSettings.Create(CommonOptions.LoadConfig(parse));
            settings = Apply(settings, parse.GetValue(users), parse.GetValue(days), parse.GetValue(anomalyRate),
                parse.GetValue(seed), parse.GetValue(start), parse.GetValue(scenarios));
            settings = ApplyScenarioFamilies(settings, parse.GetValue(driftShare), parse.GetValue(driftDay), parse.GetValue(driftPace),
                parse.GetValue(poisoningRate), parse.GetValue(poisoningStrikeDay));
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

    /// <summary>The drift and poisoning options, checked together with the period they fall in (a day past its end is
    /// refused naming the option that set it, or the HOCON key when no option did).</summary>
    private static GeneratorSettings ApplyScenarioFamilies(GeneratorSettings settings, string? shareText, string? dayText, string? paceText,
        string? rateText, string? strikeDayText)
    {
        var drift = settings.Drift;
        if (shareText is not null) drift = drift with { Share = ParseDouble(shareText, "--drift-share", "a share in [0, 1], e.g. 0.5") };
        if (dayText is not null) drift = drift with { Day = ParseInt(dayText, "--drift-day") };
        if (paceText is not null) drift = drift with { Pace = ParseDouble(paceText, "--drift-pace", "a factor in (0, 10], e.g. 0.7") };
        var poisoning = settings.Poisoning;
        if (rateText is not null) poisoning = poisoning with { Rate = ParseDouble(rateText, "--poisoning-rate", "a fraction in [0, 1], e.g. 0.005") };
        if (strikeDayText is not null) poisoning = poisoning with { StrikeDay = ParseInt(strikeDayText, "--poisoning-strike-day") };

        var driftOptions = new Dictionary<string, string?> { ["share"] = shareText is null ? null : "--drift-share", ["day"] = dayText is null ? null : "--drift-day", ["pace"] = paceText is null ? null : "--drift-pace" };
        var poisoningOptions = new Dictionary<string, string?> { ["rate"] = rateText is null ? null : "--poisoning-rate", ["strike-day"] = strikeDayText is null ? null : "--poisoning-strike-day" };
        if (drift.Problem(settings.Days, key => driftOptions.GetValueOrDefault(key) ?? $"{GeneratorSettings.ConfigPath}.drift.{key}") is (string driftName, string driftProblem))
            throw new UserInputException($"{driftName} {driftProblem}");
        if (poisoning.Problem(settings.Days, key => poisoningOptions.GetValueOrDefault(key) ?? $"{GeneratorSettings.ConfigPath}.poisoning.{key}") is (string poisoningName, string poisoningProblem))
            throw new UserInputException($"{poisoningName} {poisoningProblem}");
        // A day or pace given for a family that is off changes nothing: said on stderr, so a forgotten share or rate is noticed.
        if (!drift.Enabled)
            foreach (var (text, option) in new[] { (dayText, "--drift-day"), (paceText, "--drift-pace") })
                if (text is not null)
                    Console.Error.WriteLine($"gen: warning: {option} has no effect: drift is off (--drift-share or {GeneratorSettings.ConfigPath}.drift.share is 0)");
        if (!poisoning.Enabled && strikeDayText is not null)
            Console.Error.WriteLine($"gen: warning: --poisoning-strike-day has no effect: poisoning is off (--poisoning-rate or {GeneratorSettings.ConfigPath}.poisoning.rate is 0)");
        return settings with { Drift = drift, Poisoning = poisoning };
    }

    private static double ParseDouble(string text, string option, string expected) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
            ? value
            : throw new UserInputException($"{option} '{text}' is not a number ({expected})");

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
        if (settings.Drift.Enabled)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gen: drift: a release from day {settings.Drift.Day} ({settings.Start.AddDays(settings.Drift.Day):yyyy-MM-dd}) for {settings.Drift.Share:P1} of the users, pace x{settings.Drift.Pace}"));
        if (settings.Poisoning.Enabled)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gen: poisoning: {settings.Poisoning.Rate:P2} of the users toward {string.Join(", ", settings.Poisoning.Targets)}, striking from day {settings.Poisoning.StrikeDay}"));
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
