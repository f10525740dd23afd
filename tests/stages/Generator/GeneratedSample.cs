using StreamDetect.Models.Events;
using StreamDetect.Stages.Generator;

namespace StreamDetect.Stages.Tests.Generator;

/// <summary>
/// One small generated data set shared by the generator tests (generated once per test run): 2000 users,
/// 3 days, 10% anomalous, so every scenario has 20 users.
/// </summary>
internal static class GeneratedSample
{
    public static readonly GeneratorSettings Settings = new()
    {
        Users = 2000, Days = 3, AnomalyRate = 0.10, Seed = 11, Start = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc),
    };

    private static readonly Lazy<TrafficGenerator> LazyGenerator = new(() => new TrafficGenerator(Settings));
    private static readonly Lazy<List<UserEvent>> LazyEvents = new(() => LazyGenerator.Value.Events().ToList());
    private static readonly Lazy<Dictionary<string, List<UserEvent>>> LazyByUser = new(() =>
    {
        var byUser = new Dictionary<string, List<UserEvent>>(StringComparer.Ordinal);
        foreach (UserEvent e in LazyEvents.Value)
        {
            if (!byUser.TryGetValue(e.UserId, out var list)) byUser[e.UserId] = list = [];
            list.Add(e);
        }
        return byUser;
    });

    public static TrafficGenerator Generator => LazyGenerator.Value;

    /// <summary>All events in generation (global time) order.</summary>
    public static IReadOnlyList<UserEvent> Events => LazyEvents.Value;

    /// <summary>Each user's events in their order; users without events are absent.</summary>
    public static IReadOnlyDictionary<string, List<UserEvent>> ByUser => LazyByUser.Value;

    public static IEnumerable<string> UsersOf(string scenario) =>
        Generator.Truth.Where(p => p.Value == scenario).Select(p => p.Key).Order(StringComparer.Ordinal);

    /// <summary>The user's events with label 1 (the episode).</summary>
    public static List<UserEvent> Episode(string user) => ByUser.TryGetValue(user, out var list) ? list.Where(e => e.Label == 1).ToList() : [];

    /// <summary>The user's events with label 0 before the episode.</summary>
    public static List<UserEvent> HistoryBefore(string user) =>
        ByUser.TryGetValue(user, out var list) ? list.TakeWhile(e => e.Label == 0).ToList() : [];
}
