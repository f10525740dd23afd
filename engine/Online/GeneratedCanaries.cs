using Akka.Configuration;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;
using StreamDetect.Models.Online;
using StreamDetect.Models.Sessions;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Engine.Online;

/// <summary>
/// Attack sequences from the built-in generator's scenario episodes, for the canary-recall gate when the training data
/// holds too few attack users (<see cref="CanarySet"/>). The generator runs with the run's own settings
/// (<c>streamdetect.generator</c>: catalog, pace, session model, scenario list), every generated user an attacker
/// (anomaly rate 1: the users are split evenly over the scenarios, so each is an ordinary shopper's history with one
/// episode after it), over the training period's days (from midnight UTC of its first event; at least
/// <see cref="MinDays"/>, so that an episode has history before it, at most <see cref="MaxDays"/>), without the drift and
/// poisoning scenarios (a release's new types would be &lt;unk&gt; to the model; a poisoner is labelled normal until it
/// strikes), with the seed given (<c>streamdetect.online-learning.seed</c>): the same configuration and training data
/// give the same canaries. Users are named <c>canary-u-N</c>, so they are never taken for the run's own users. Each
/// comes with its scenario (the generator's truth), which the canary gate judges separately: <c>min-canary-users</c>
/// 100 over the default 10 scenarios gives each 10 canaries, enough for a scenario's loss to fail the gate
/// (<see cref="ScenarioCanaryRule"/>: 6 of 10 at best, 8 at worst; 4 or fewer never can).
/// </summary>
public static class GeneratedCanaries
{
    /// <summary>Fewest days generated: the generator places an episode between 30 % and 85 % of the period.</summary>
    public const int MinDays = 2;

    /// <summary>Most days generated (the history before an episode; the cost of the gates grows with it).</summary>
    public const int MaxDays = 7;

    /// <summary>The prefix of the generated canary users' ids.</summary>
    public const string UserPrefix = "canary-";

    /// <param name="count">Attackers generated (the users returned are those with an episode: at most this many).</param>
    /// <param name="trainedOn">The training data: its period places the canaries in time.</param>
    /// <param name="config">The run's configuration (<c>streamdetect.generator</c>).</param>
    /// <param name="seed">The generator's seed.</param>
    /// <param name="sessions">The run's session rule (end markers as the stream places them).</param>
    /// <returns>The canary users and, in the same order, each one's scenario.</returns>
    public static (BehaviorDataset Users, IReadOnlyList<string> Scenarios) Generate(int count, BehaviorDataset trainedOn, Config config, int seed, SessionSettings sessions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var settings = SettingsFor(count, trainedOn, GeneratorSettings.Create(config), seed);
        var generator = new TrafficGenerator(settings);
        var truth = generator.Truth;
        var all = DatasetBuilder.Build(generator.Events().Select(Renamed), trainedOn.WindowCapacity, sessions);
        var normal = all.WithoutLabelledUsers().Users.Select(u => u.UserId).ToHashSet(StringComparer.Ordinal);
        var attackers = all.Users.Where(u => !normal.Contains(u.UserId)).ToArray();
        return (new BehaviorDataset(attackers, trainedOn.WindowCapacity), attackers.Select(u => truth[u.UserId[UserPrefix.Length..]]).ToArray());
    }

    /// <summary>The generator's settings for <paramref name="count"/> canaries (see the type's summary).</summary>
    public static GeneratorSettings SettingsFor(int count, BehaviorDataset trainedOn, GeneratorSettings run, int seed)
    {
        const long day = 86_400_000L;
        long first = trainedOn.FirstEventMs;
        long midnight = first - ((first % day) + day) % day;
        int days = (int)Math.Clamp((trainedOn.LastEventMs - midnight + day - 1) / day, MinDays, MaxDays);
        var start = DateTime.UnixEpoch.AddMilliseconds(midnight);
        return run with
        {
            Users = count,
            AnomalyRate = 1.0,
            Seed = seed,
            // Data dated where the generator cannot start (before 1971: e.g. times counted from 0) keeps its start.
            Start = start.Year is >= 1971 and <= 9000 ? start : run.Start,
            Days = days,
            Drift = DriftSettings.Off,
            Poisoning = PoisoningSettings.Off,
        };
    }

    private static UserEvent Renamed(UserEvent e) => new(UserPrefix + e.UserId, e.TimestampMs, e.Type)
    {
        Item = e.Item, Category = e.Category, Amount = e.Amount, Query = e.Query, Ip = e.Ip, Device = e.Device, Session = e.Session, Label = e.Label,
    };
}
