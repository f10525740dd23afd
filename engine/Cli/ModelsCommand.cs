using System.CommandLine;
using System.Globalization;
using System.Text;
using StreamDetect.Engine.Configuration;
using StreamDetect.Engine.Persistence;
using StreamDetect.Engine.Registry;

namespace StreamDetect.Engine.Cli;

/// <summary>
/// `streamdetect models list|show|promote|rollback`: the model registry of a data directory (or of the
/// PostgreSQL store with the postgres overlay). Promotions and rollbacks are one transaction each.
/// </summary>
public static class ModelsCommand
{
    private static readonly Option<string?> DataDir = new("--data-dir")
    {
        HelpName = "DIR",
        Description = "Data directory whose store holds the registry (default ./data, streamdetect.store.data-dir); with --config hocon/postgres.conf the PostgreSQL store instead",
        Recursive = true,
    };

    private static readonly Argument<string> Id = new("ID") { Description = "The version id (the content hash `models list` shows)" };

    private static readonly Option<string?> PromoteReason = new("--reason") { HelpName = "TEXT", Description = "Why, for the lifecycle history (default: promoted by an operator)" };

    private static readonly Option<string?> RollbackReason = new("--reason") { HelpName = "TEXT", Description = "Why, for the lifecycle history (default: rolled back by an operator)" };

    public static Command Create()
    {
        var list = new Command("list", "List every model version, oldest first: id, detector, status, origin, parent, created, size, gates passed");
        list.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, _ => Task.FromResult(List(parse)), cancellation));

        var show = new Command("show", "Show one version: origin and training detail, gate results and its lifecycle history") { Id };
        show.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, _ => Task.FromResult(Show(parse)), cancellation));

        var promote = new Command("promote", "Make a version the champion; the champion it replaces is retired (one transaction)") { Id, PromoteReason };
        promote.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, _ => Task.FromResult(Promote(parse)), cancellation));

        var rollback = new Command("rollback",
            "Roll the champion back: it is rejected and the champion its promotion replaced is restored (one transaction)") { RollbackReason };
        rollback.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, _ => Task.FromResult(Rollback(parse)), cancellation));

        var models = new Command("models", "Inspect the model registry (versions, statuses, lifecycle) and promote or roll back the champion");
        models.Options.Add(DataDir);
        models.Subcommands.Add(list);
        models.Subcommands.Add(show);
        models.Subcommands.Add(promote);
        models.Subcommands.Add(rollback);
        return models;
    }

    /// <summary>The registry of the command's store; a SQLite data directory must exist and hold a store already.</summary>
    private static ModelRegistry Open(ParseResult parse)
    {
        string? dataDir = parse.GetValue(DataDir);
        var config = CommonOptions.LoadConfig(parse, dataDir is null ? null : $"streamdetect.store.data-dir = {RunCommand.HoconString(dataDir)}");
        var store = StoreSettings.Create(config);
        if (store.Kind == "sqlite")
        {
            if (!Directory.Exists(store.DataDirectory))
                throw new UserInputException($"data directory '{store.DataDirectory}' (--data-dir, streamdetect.store.data-dir) does not exist");
            if (!File.Exists(store.SqlitePath))
                throw new UserInputException($"data directory '{store.DataDirectory}' holds no store ({store.SqliteFile} is missing); models are registered by `run` and `train --data-dir`");
        }
        return ModelRegistry.Open(store);
    }

    private static int List(ParseResult parse)
    {
        var registry = Open(parse);
        var versions = registry.List();
        if (versions.Count == 0)
        {
            Console.WriteLine($"no model versions in {registry.Store} (models are registered by `run` and `train --data-dir`)");
            return ExitCodes.Success;
        }
        var rows = new List<string[]> { new[] { "VERSION", "NAME", "STATUS", "ORIGIN", "PARENT", "CREATED (UTC)", "SIZE", "GATES" } };
        rows.AddRange(versions.Select(v => new[]
        {
            v.Id, v.Name, Word(v.Status), Word(v.Origin), v.ParentId ?? "-", v.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            Size(v.SizeBytes), v.Gates.Count == 0 ? "-" : $"{v.Gates.Count(g => g.Passed)}/{v.Gates.Count} passed",
        }));
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows) Console.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        var champion = versions.SingleOrDefault(v => v.Status == ModelStatus.Champion);
        Console.WriteLine(champion is null ? "no champion yet" : $"champion: {champion.Name}@{champion.Id}");
        return ExitCodes.Success;
    }

    private static int Show(ParseResult parse)
    {
        var registry = Open(parse);
        var version = registry.Require(parse.GetRequiredValue(Id));
        var text = new StringBuilder();
        text.AppendLine($"version  {version.Id}");
        text.AppendLine($"name     {version.Name}");
        text.AppendLine($"status   {Word(version.Status)}");
        text.AppendLine($"origin   {Word(version.Origin)}{Detail(version.Detail)}");
        text.AppendLine($"parent   {version.ParentId ?? "-"}");
        text.AppendLine($"created  {Time(version.Created)}");
        text.AppendLine($"size     {version.SizeBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes");
        if (version.Gates.Count == 0) text.AppendLine("gates    -");
        else
        {
            text.AppendLine("gates");
            foreach (var gate in version.Gates)
                text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {gate.Gate,-24} value {gate.Value,10:G6}  bound {gate.Bound,10:G6}  {(gate.Passed ? "passed" : "FAILED")}"));
        }
        text.AppendLine("history");
        foreach (var entry in registry.History(version.Id))
        {
            string change = entry.From is { } from ? $"{Word(from)} -> {Word(entry.To)}" : $"-> {Word(entry.To)}";
            string previous = entry.PreviousChampion is { } p ? $" (replaced {p})" : "";
            text.AppendLine($"  {Time(entry.At)}  {Name(entry.Event),-12}{change,-23} {entry.Reason}{previous}");
        }
        Console.Write(text);
        return ExitCodes.Success;
    }

    private static int Promote(ParseResult parse)
    {
        var registry = Open(parse);
        string id = parse.GetRequiredValue(Id);
        var before = registry.Champion();
        var version = registry.Require(id);
        if (!registry.Promote(id, parse.GetValue(PromoteReason) ?? "promoted by an operator (streamdetect models promote)"))
        {
            Console.WriteLine($"{version.Name}@{version.Id} is the champion already");
            return ExitCodes.Success;
        }
        string retired = before is null || before.Id == id ? "" : $"; {before.Name}@{before.Id} is retired";
        Console.WriteLine($"promoted {version.Name}@{version.Id} (was {Word(version.Status)}) to champion{retired}");
        return ExitCodes.Success;
    }

    private static int Rollback(ParseResult parse)
    {
        var registry = Open(parse);
        var before = registry.Champion();
        var restored = registry.Rollback(parse.GetValue(RollbackReason) ?? "rolled back by an operator (streamdetect models rollback)");
        Console.WriteLine($"rolled back {before!.Name}@{before.Id} (now rejected); the champion is {restored.Name}@{restored.Id} again");
        return ExitCodes.Success;
    }

    private static string Detail(OriginDetail detail)
    {
        var parts = new List<string>();
        if (detail.Source is { } source) parts.Add(source);
        if (detail.Samples is long samples) parts.Add($"{samples.ToString("N0", CultureInfo.InvariantCulture)} samples");
        if (detail.EventsFrom is not null || detail.EventsUntil is not null)
            parts.Add($"events {(detail.EventsFrom is { } f ? Time(f) : "...")} to {(detail.EventsUntil is { } u ? Time(u) : "...")}");
        if (detail.Steps is int steps) parts.Add($"{steps} steps");
        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

    private static string Word(ModelStatus status) => RegistryNames.Of(status);

    private static string Word(ModelOrigin origin) => RegistryNames.Of(origin);

    private static string Name(LifecycleEvent change) => RegistryNames.Of(change);

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB");
}
