using StreamDetect.Engine.Configuration;
using System.CommandLine;
using System.Text.Json;
using Akka.Actor;
using StreamDetect.Engine.Entities;
using StreamDetect.Engine.Hosting;
using StreamDetect.Stages.Partitions;
using StreamDetect.Engine.Persistence;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Parsing;

namespace StreamDetect.Engine.Cli;

/// <summary>`streamdetect state dump`: every persisted user's state as JSON Lines, for operators and tests.</summary>
public static class StateCommand
{
    private static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = "Data directory of the store to read (default ./data, streamdetect.store.data-dir)",
    };

    private static readonly Option<string> Out = new("--out", "-o")
    {
        Description = "File to write ('-' for stdout): one JSON object per user, sorted by userId",
        Required = true,
    };

    public static Command Create()
    {
        var dump = new Command("dump",
            "Write every persisted user's state (event count, first and last event time, feature vector) as JSON Lines sorted by userId. " +
            "Reads the store without changing it; do not run it against a data directory a running engine is writing");
        dump.Options.Add(DataDir);
        dump.Options.Add(Out);
        dump.SetAction((parse, cancellation) => CommandRunner.RunAsync(parse, token => DumpAsync(parse, token), cancellation));

        var state = new Command("state", "Inspect the persisted per-user state");
        state.Subcommands.Add(dump);
        return state;
    }

    private static async Task<int> DumpAsync(ParseResult parse, CancellationToken cancellation)
    {
        string? dataDir = parse.GetValue(DataDir);
        string output = parse.GetRequiredValue(Out);
        var baseConfig = CommonOptions.LoadConfig(parse, dataDir is null ? null : $"streamdetect.store.data-dir = {RunCommand.HoconString(dataDir)}");
        var store = StoreSettings.Create(baseConfig);
        if (store.Kind == "memory")
            throw new UserInputException("streamdetect.store.kind = memory keeps nothing to dump");
        int partitions = DataDirectoryMarker.ReadPartitions(store.DataDirectory)
            ?? throw new UserInputException($"'{store.DataDirectory}' is not a StreamDetect data directory (no {DataDirectoryMarker.FileName}); pass --data-dir");
        string colocate = DataDirectoryMarker.ReadKafkaKeyed(store.DataDirectory) ? "on" : "off";
        var config = Akka.Configuration.ConfigurationFactory.ParseString($"streamdetect.routing.partitions = {partitions}\nstreamdetect.routing.colocate = {colocate}").WithFallback(baseConfig);

        var users = new List<(string UserId, UserBehaviorState State)>();
        await using (var host = await EngineHost.StartAsync(config, cluster: false, cancellation))
        {
            for (int p = 0; p < partitions; p++)
            {
                var states = await host.Partitions.Ask<UserStates>(new GetUserStates(p), TimeSpan.FromMinutes(5), cancellation);
                foreach (string user in states.States.Keys) users.Add((user, states.Read(user)));
            }
        }
        users.Sort((a, b) => string.CompareOrdinal(a.UserId, b.UserId));

        Stream stream = output == "-" ? Console.OpenStandardOutput() : CreateFile(output);
        await using (stream)
        {
            using var writer = new Utf8JsonWriter(stream);
            foreach (var (user, state) in users) WriteUser(writer, user, state, stream);
        }
        if (output != "-") Console.Error.WriteLine($"{users.Count:N0} users from {partitions} partitions written to {output}");
        return 0;
    }

    private static FileStream CreateFile(string path)
    {
        try
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"cannot write '{path}': {e.Message}", e);
        }
    }

    /// <summary>One user's line: {"userId","eventCount","firstEventTime","lastEventTime","features":[...]}.</summary>
    internal static void WriteUser(Utf8JsonWriter w, string userId, UserBehaviorState state, Stream stream)
    {
        Span<byte> time = stackalloc byte[32];
        w.Reset(stream);
        w.WriteStartObject();
        w.WriteString("userId"u8, userId);
        w.WriteNumber("eventCount"u8, state.EventCount);
        w.WriteString("firstEventTime"u8, time[..UserEventJson.FormatTimestamp(state.FirstEventMs, time)]);
        w.WriteString("lastEventTime"u8, time[..UserEventJson.FormatTimestamp(state.LastEventMs, time)]);
        w.WriteStartArray("features"u8);
        foreach (float f in state.Features()) w.WriteNumberValue(f);
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        stream.WriteByte((byte)'\n');
    }
}
