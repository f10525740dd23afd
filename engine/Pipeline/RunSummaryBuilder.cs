using StreamDetect.Engine.Hosting;

namespace StreamDetect.Engine.Pipeline;

/// <summary>Turns an <see cref="IngestResult"/> into the <see cref="RunSummary"/> printed and written by `run`.</summary>
public static class RunSummaryBuilder
{
    public static RunSummary Build(string source, IngestResult result, EngineSettings settings, IReadOnlyDictionary<string, string>? truth)
    {
        var s = result.Statistics;
        var routing = result.Routing;
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
            Entities = new EntitySummary
            {
                Partitions = settings.Routing.Partitions,
                UsersInState = result.Partitions.Sum(p => p.Users),
                NewUsers = routing.NewUsers,
                EventsPersisted = routing.Accepted,
                DuplicatesDropped = routing.Duplicates,
                JournalRows = routing.Rows,
                EventsPerRow = routing.Rows == 0 ? 0 : Math.Round((double)routing.Accepted / routing.Rows, 1),
                Snapshots = routing.Snapshots,
                EventsInState = result.Partitions.Sum(p => p.EventsApplied),
                MaxRecoveryMs = result.Partitions.Count == 0 ? 0 : result.Partitions.Max(p => p.RecoveryMs),
                Store = settings.Store.Kind,
                DataDir = settings.Store.Kind == "sqlite" ? settings.Store.DataDirectory : null,
            },
        };
        if (s.LabelledEvents > 0)
        {
            summary.LabelledEvents = s.LabelledEvents;
            summary.LabelledAnomalousUsers = s.LabelledAnomalousUsers.Count;
        }
        if (truth is not null)
        {
            summary.AnomalousUsersPerScenario = truth.Values.Where(v => v != "normal")
                .GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        }
        return summary;
    }
}
