namespace StreamDetect.Engine.Pipeline;

/// <summary>The human-readable summary `run` prints.</summary>
public static class RunSummaryPrinter
{
    public static void Print(RunSummary s, TextWriter o)
    {
        o.WriteLine($"source              {s.Source}");
        o.WriteLine($"events in           {s.EventsIn:N0}");
        o.WriteLine($"events valid        {s.EventsValid:N0}");
        o.WriteLine($"dead letters        {s.DeadLetters:N0}");
        o.WriteLine($"users               {s.Users:N0}");
        o.WriteLine($"elapsed             {s.ElapsedS:N1} s ({s.EventsPerS:N0} events/s)");
        if (s.Entities is { } e)
        {
            string where = e.DataDir is null ? e.Store : $"{e.Store} in {e.DataDir}";
            o.WriteLine($"state               {e.UsersInState:N0} users in {e.Partitions} partitions ({where})");
            o.WriteLine($"persisted           {e.EventsPersisted:N0} events in {e.JournalRows:N0} journal rows ({e.EventsPerRow:N1} events/row), {e.Snapshots} snapshots");
            if (e.DuplicatesDropped > 0) o.WriteLine($"replays dropped     {e.DuplicatesDropped:N0} (already persisted by an earlier run)");
        }
        o.WriteLine("events per type");
        foreach (var (type, count) in s.EventTypes) o.WriteLine($"  {type,-18}{count,12:N0}");
        if (s.AnomalousUsersPerScenario is { } scenarios)
        {
            o.WriteLine("anomalous users per scenario (truth file)");
            foreach (var (scenario, count) in scenarios) o.WriteLine($"  {scenario,-22}{count,8:N0}");
        }
        else if (s.LabelledAnomalousUsers is int labelled)
        {
            o.WriteLine($"users with label 1  {labelled:N0}");
        }
    }
}
