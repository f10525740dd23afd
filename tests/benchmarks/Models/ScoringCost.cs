using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Ensemble;
using StreamDetect.Models.Features;
using StreamDetect.Stages.Sources;
using TorchSharp;

namespace StreamDetect.Benchmarks.Models;

/// <summary>
/// CPU cost of scoring per event, for saved models on an event file: process CPU time (every thread: the
/// caller, parallel ensemble members, torch, GC) over the events scored, which a shared machine skews far
/// less than wall-clock rates. Three shapes, each input built beforehand (only ScoreBatch and passing the
/// states along are timed):
/// <list type="bullet">
/// <item>replay: every event once as its user's newest, batches of 1024 users (what <c>streamdetect eval</c> scores);</item>
/// <item>engine: users bring 1..50 new events each (mean ~10), batches of 100..1000 users (the engine's batches);</item>
/// <item>1024x1: one batch of 1024 users, one new event each, state kept, scored again and again.</item>
/// </list>
/// <c>--digest</c> prints a hash of every score, raw score, detailed explanation and state instead (same
/// model and data, same hash: a change that must not change a score is checked with it); with <c>--dump FILE</c> also
/// every event's raw score (and each ensemble member's) to FILE.SHAPE.MODEL, one line per event.
/// <code>dotnet tests/benchmarks/bin/Release/net10.0/StreamDetect.Benchmarks.dll scoring-cost --data FILE --model M.sdm [--members] [--runs 3] [--shapes replay,engine,1024x1] [--digest] [--explain-from X]</code>
/// </summary>
public static class ScoringCost
{
    private const int WindowCapacity = 32;

    public static int Run(string[] args)
    {
        string data = Option(args, "--data") ?? throw new ArgumentException("--data FILE");
        string model = Option(args, "--model") ?? throw new ArgumentException("--model FILE");
        int runs = int.Parse(Option(args, "--runs") ?? "3", CultureInfo.InvariantCulture);
        var shapes = (Option(args, "--shapes") ?? "replay,engine,1024x1").Split(',');
        double? explainFrom = Option(args, "--explain-from") is { } x ? double.Parse(x, CultureInfo.InvariantCulture) : null;
        bool digest = args.Contains("--digest"), members = args.Contains("--members");
        string? dump = Option(args, "--dump");
        torch.set_num_threads(int.Parse(Option(args, "--torch-threads") ?? "1", CultureInfo.InvariantCulture));

        var dataset = DatasetBuilder.Build(EventFile.Read(data), WindowCapacity);
        using var detector = DetectorFile.Load(model, "cpu");
        if (explainFrom is double from && detector is AnomalyDetector concrete) concrete.ExplainFrom = from;
        var detectors = new List<IAnomalyDetector> { detector };
        if (members && detector is EnsembleDetector ensemble) detectors.AddRange(ensemble.Members);

        var batches = new Dictionary<string, Func<Batch[]>>
        {
            ["replay"] = () => ReplayBatches(dataset),
            ["engine"] = () => EngineBatches(dataset, seed: 11),
            ["1024x1"] = () => RepeatedBatch(dataset),
        };
        Console.WriteLine($"{dataset.EventCount} events of {dataset.Users.Count} users; torch threads {torch.get_num_threads()}; cores {Environment.ProcessorCount}");
        foreach (string shape in shapes)
        {
            var work = batches[shape]();
            long events = Schedule(work).Sum(s => (long)s.Batch.Events * s.Repeats);
            foreach (var d in detectors)
            {
                if (digest)
                {
                    Console.WriteLine($"{shape,-7} {d.Name,-9} digest {Digest(d, work, dataset.Users.Count, dump is null ? null : $"{dump}.{shape}.{d.Name}")} ({events} events)");
                    continue;
                }
                Score(d, work, dataset.Users.Count); // warm-up: tiered JIT, torch allocator
                var cpu = new List<double>();
                var wall = new List<double>();
                var bytes = new List<double>();
                int gen0 = 0, gen1 = 0, gen2 = 0;
                for (int r = 0; r < runs; r++)
                {
                    GC.Collect();
                    int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
                    long allocated = GC.GetTotalAllocatedBytes(precise: true);
                    var (c, w) = Score(d, work, dataset.Users.Count);
                    bytes.Add((double)(GC.GetTotalAllocatedBytes(precise: true) - allocated) / events);
                    gen0 += GC.CollectionCount(0) - g0;
                    gen1 += GC.CollectionCount(1) - g1;
                    gen2 += GC.CollectionCount(2) - g2;
                    cpu.Add(c.TotalMicroseconds / events);
                    wall.Add(w.TotalMicroseconds / events);
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{shape,-7} {d.Name,-9} CPU us/event {string.Join(" ", cpu.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}" +
                    $"  (min {cpu.Min():F3}; {1e6 / cpu.Min():F0} events per CPU-second)  wall us/event {string.Join(" ", wall.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}" +
                    $"  allocated B/event {bytes.Average():F0}  gc {gen0}/{gen1}/{gen2} over {runs} runs  ({events} events, {work.Length} batches)"));
            }
        }
        return 0;
    }

    private const int Repeats = 200;

    /// <summary>One batch: the inputs (states left out) and each one's user index.</summary>
    private sealed record Batch(ScoringInput[] Inputs, int[] Users)
    {
        public int Events => Inputs.Sum(i => i.NewEvents);
    }

    private static (TimeSpan Cpu, TimeSpan Wall) Score(IAnomalyDetector detector, Batch[] work, int users)
    {
        var states = new ModelStateSlot?[users];
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        foreach (var (batch, repeats) in Schedule(work))
        {
            for (int r = 0; r < repeats; r++)
            {
                var inputs = new ScoringInput[batch.Inputs.Length];
                for (int i = 0; i < inputs.Length; i++) inputs[i] = batch.Inputs[i] with { State = states[batch.Users[i]] };
                var outputs = detector.ScoreBatch(inputs);
                // The repeated batch keeps the state it started from (the same work every time).
                if (repeats == 1) for (int i = 0; i < outputs.Length; i++) states[batch.Users[i]] = outputs[i].NewState;
            }
        }
        var wall = clock.Elapsed;
        process.Refresh();
        return (process.TotalProcessorTime - cpu, wall);
    }

    /// <summary>The 1024x1 shape is two batches: the one that keeps the states (once), then the measured one (repeated).</summary>
    private static IEnumerable<(Batch Batch, int Repeats)> Schedule(Batch[] work) =>
        work.Length == 2 && work[0].Inputs.Length == 1024 && work[1].Users.SequenceEqual(work[0].Users) && work[0].Events == 1024 && work[1].Inputs[0].EventCount == work[0].Inputs[0].EventCount + 1
            ? [(work[0], 1), (work[1], Repeats)]
            : work.Select(b => (b, 1));

    private static string Digest(IAnomalyDetector detector, Batch[] work, int users, string? dump)
    {
        using var lines = dump is null ? null : new StreamWriter(dump);
        var states = new ModelStateSlot?[users];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var text = new StringBuilder();
        long explained = 0;
        foreach (var batch in work)
        {
            var inputs = new ScoringInput[batch.Inputs.Length];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = batch.Inputs[i] with { State = states[batch.Users[i]] };
            var outputs = detector.ScoreBatch(inputs);
            for (int i = 0; i < outputs.Length; i++)
            {
                var output = outputs[i];
                states[batch.Users[i]] = output.NewState;
                text.Clear();
                for (int e = 0; e < output.Count; e++)
                {
                    text.Append(BitConverter.DoubleToInt64Bits(output.ScoreAt(e))).Append(',').Append(BitConverter.DoubleToInt64Bits(output.RawScoreAt(e))).Append(';');
                    lines?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{inputs[i].UserId} {inputs[i].EventCount - output.Count + e} {output.RawScoreAt(e):R}{string.Concat(output.Members.Select(m => $" {m.Model} {m.RawScoreAt(e):R}"))}"));
                    if (!output.IsExplained(e)) continue;
                    explained++;
                    Append(text, output.ExplanationAt(e));
                }
                if (output.NewState is { } state)
                {
                    text.Append(state.ModelKey).Append(state.EventsFolded);
                    foreach (float v in state.Values) text.Append(BitConverter.SingleToInt32Bits(v)).Append(',');
                }
                hash.AppendData(Encoding.UTF8.GetBytes(text.ToString()));
            }
        }
        return $"{Convert.ToHexString(hash.GetHashAndReset())[..16]} ({explained} explained)";
    }

    private static void Append(StringBuilder text, Explanation explanation)
    {
        text.Append('[').Append(explanation.Model).Append(BitConverter.DoubleToInt64Bits(explanation.RawScore));
        foreach (var u in explanation.UnexpectedEvents)
        {
            text.Append("|u").Append(u.WindowIndex).Append(u.TimestampMs).Append(u.Type).Append(BitConverter.DoubleToInt64Bits(u.Surprise)).Append(u.OutsideTopK);
            foreach (var x in u.Expected) text.Append(x.Type).Append(BitConverter.DoubleToInt64Bits(x.Probability));
        }
        foreach (var f in explanation.Features)
            text.Append("|f").Append(f.Feature).Append(BitConverter.DoubleToInt64Bits(f.Value)).Append(BitConverter.DoubleToInt64Bits(f.Share));
        foreach (var m in explanation.Members)
        {
            text.Append("|m").Append(m.Model).Append(BitConverter.DoubleToInt64Bits(m.Score));
            Append(text, m.Explanation);
        }
        text.Append(']');
    }

    /// <summary>Every event once as its user's newest, rounds over the users, batches of 1024 (StreamingReplay's order).</summary>
    private static Batch[] ReplayBatches(BehaviorDataset data)
    {
        var cursors = data.Users.Select(u => u.StartReplay(data.WindowCapacity)).ToArray();
        var batches = new List<Batch>();
        var active = Enumerable.Range(0, cursors.Length).Where(u => cursors[u].HasNext).ToList();
        while (active.Count > 0)
        {
            for (int start = 0; start < active.Count; start += 1024)
            {
                var users = active.Skip(start).Take(1024).ToArray();
                batches.Add(new Batch(users.Select(u => cursors[u].AdvanceAsInput(1)).ToArray(), users));
            }
            active.RemoveAll(u => !cursors[u].HasNext);
        }
        return [.. batches];
    }

    /// <summary>Rounds in which every user with events left brings 1..50 of them (geometric, mean ~10), in
    /// batches of 100..1000 users: the shape of the engine's micro-batches.</summary>
    private static Batch[] EngineBatches(BehaviorDataset data, int seed)
    {
        var random = new Random(seed);
        var cursors = data.Users.Select(u => u.StartReplay(data.WindowCapacity)).ToArray();
        var batches = new List<Batch>();
        var active = Enumerable.Range(0, cursors.Length).Where(u => cursors[u].HasNext).ToList();
        while (active.Count > 0)
        {
            for (int start = 0; start < active.Count;)
            {
                int size = random.Next(100, 1001);
                var users = active.Skip(start).Take(size).ToArray();
                start += users.Length;
                batches.Add(new Batch(users.Select(u =>
                {
                    int events = Math.Min(Math.Min(50, 1 + (int)(-Math.Log(1 - random.NextDouble()) * 9.5)), cursors[u].User.Count - cursors[u].Position);
                    return cursors[u].AdvanceAsInput(events);
                }).ToArray(), users));
            }
            active.RemoveAll(u => !cursors[u].HasNext);
        }
        return [.. batches];
    }

    /// <summary>1024 users with at least 40 events: their second-to-last event (keeps the state), then their last.</summary>
    private static Batch[] RepeatedBatch(BehaviorDataset data)
    {
        var users = Enumerable.Range(0, data.Users.Count).Where(u => data.Users[u].Count >= 40).Take(1024).ToList();
        while (users.Count < 1024) users.AddRange(users.Take(1024 - users.Count).ToArray());
        // A user listed twice would be two inputs of one user in a batch: only distinct users are supported.
        if (users.Distinct().Count() != users.Count) throw new InvalidOperationException("fewer than 1024 users with 40 events");
        var before = new ScoringInput[1024];
        var last = new ScoringInput[1024];
        for (int i = 0; i < users.Count; i++)
        {
            var cursor = data.Users[users[i]].StartReplay(data.WindowCapacity);
            while (cursor.Position < cursor.User.Count - 2) cursor.Advance();
            before[i] = cursor.AdvanceAsInput(1);
            last[i] = cursor.AdvanceAsInput(1);
        }
        var ids = users.ToArray();
        return [new Batch(before, ids), new Batch(last, ids)];
    }

    private static string? Option(string[] args, string name)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
