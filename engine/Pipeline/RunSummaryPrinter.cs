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
        if (s.EventsLostToRetention is long lost)
            o.WriteLine($"lost to retention   {lost:N0}" + (lost > 0 ? " (deleted by Kafka retention before they were read; per partition in the log)" : ""));
        o.WriteLine($"users               {s.Users:N0}");
        o.WriteLine($"elapsed             {s.ElapsedS:N1} s ({s.EventsPerS:N0} events/s)");
        if (s.StreamingS > 0)
            o.WriteLine($"streaming           {s.StreamingS:N1} s from the first event in to the last persisted ({s.StreamingEventsPerS:N0} events/s)");
        if (s.Entities is { } e)
        {
            string where = e.DataDir is null ? e.Store : $"{e.Store} in {e.DataDir}";
            o.WriteLine($"state               {e.UsersInState:N0} users in {e.Partitions} partitions ({where})");
            o.WriteLine($"persisted           {e.EventsPersisted:N0} events in {e.JournalRows:N0} journal rows ({e.EventsPerRow:N1} events/row), {e.Snapshots} snapshots");
            if (e.DuplicatesDropped > 0) o.WriteLine($"replays dropped     {e.DuplicatesDropped:N0} (already persisted by an earlier run)");
            o.WriteLine($"sessions closed     {e.SessionsClosed:N0} (gap, end type, session field, watermark, end of input; one end marker each)"
                + (e.EntityKey == "session" ? "; entities are sessions (streamdetect.entities.key = session)" : ""));
        }
        if (s.Scoring is { } sc)
        {
            o.WriteLine($"model               {sc.Model} on {sc.Device}" + (sc.TrainingS > 0 ? $" (trained in {sc.TrainingS:N1} s)" : "") + (sc.ModelFile is null ? "" : $" {sc.ModelFile}"));
            if (sc.EventsByModel is { Count: > 1 } byModel)
                o.WriteLine($"models that scored  {string.Join(", ", byModel.Select(m => $"{m.Key} ({m.Value:N0} events)"))}");
            foreach (var change in sc.PlanChanges ?? [])
                o.WriteLine($"plan change         at order key {change.Boundary} ({DateTime.UnixEpoch.AddMilliseconds(change.Boundary):yyyy-MM-dd HH:mm}Z): champion {change.Champion}"
                    + (change.Shadow is null ? "" : $", shadow {change.Shadow}") + $" ({change.Reason})");
            if (sc.ShadowAlerts is long shadowAlerts && (shadowAlerts > 0 || sc.PlanChanges is { Count: > 0 }))
                o.WriteLine($"shadow alerts       {shadowAlerts:N0} (never emitted)" + (sc.ShadowAlertsFile is null ? "" : $" in {sc.ShadowAlertsFile}"));
            o.WriteLine($"scored              {sc.EventsScored:N0} events in {sc.RequestsScored:N0} requests, {sc.Batches:N0} batches (mean {sc.MeanBatch:N0} requests); scorer busy {sc.ScorerS:N1} s");
            o.WriteLine($"latency             ingest->scored p50 {sc.LatencyP50Ms:N1} ms, p99 {sc.LatencyP99Ms:N1} ms; ingest->alert p50 {sc.AlertLatencyP50Ms:N1} ms, p99 {sc.AlertLatencyP99Ms:N1} ms");
            o.WriteLine($"alerts              {s.Alerts:N0}" + (s.AlertsRedelivered > 0 ? $" ({s.AlertsRedelivered:N0} of them journaled before a crash and written now)" : "")
                + (s.AlertsAlreadyEmitted > 0 ? $" ({s.AlertsAlreadyEmitted:N0} more from before a crash were in the output already: not written again)" : ""));
            if (s.Precision is double p)
            {
                o.WriteLine($"detection           users from {sc.EvaluatedFrom ?? "the start"}: {sc.EvaluatedUsers:N0} active, {sc.AnomalousUsers:N0} anomalous; " +
                            $"precision {p:P1}, recall {s.Recall:P1}, F1 {s.F1:P1}; normal users alerted {sc.NormalAlertRate:P2}");
                if (s.Scenarios is { } quality)
                {
                    o.WriteLine($"  {"scenario",-20}{"users",7}{"found",7}{"precision",11}{"recall",9}{"F1",8}");
                    foreach (var (name, q) in quality)
                        o.WriteLine($"  {name,-20}{q.Users,7}{q.Detected,7}{q.Precision,11:P1}{q.Recall,9:P1}{q.F1,8:P1}");
                }
            }
        }
        o.WriteLine("events per type");
        foreach (var (type, count) in s.EventTypes) o.WriteLine($"  {type,-18}{count,12:N0}");
        if (s.AnomalousUsersPerScenario is { } scenarios)
        {
            o.WriteLine("anomalous users per scenario (ground truth)");
            foreach (var (scenario, count) in scenarios) o.WriteLine($"  {scenario,-22}{count,8:N0}");
        }
        else if (s.LabelledAnomalousUsers is int labelled)
        {
            o.WriteLine($"users with label 1  {labelled:N0}");
        }
    }
}
