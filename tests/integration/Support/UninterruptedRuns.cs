using StreamDetect.Integration.Tests.Scoring;

namespace StreamDetect.Integration.Tests.Support;

/// <summary>
/// The uninterrupted runs that crash and outage tests compare with, made once for the collection
/// (<see cref="UninterruptedRunsCollection"/>) on first use instead of once per test: the same input, model and
/// settings make the same reference every time, so each test still compares with a run of its own input.
/// </summary>
public sealed class UninterruptedRuns : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private readonly TempDirectory _dir = new("sd-uninterrupted-");
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IngestOnlyReference? _ingestOnly;
    private ScoringReference? _scoring;
    private string? _scoringDump;

    /// <summary>
    /// `run --ingest-only` over 3,000 generated users (1 day, seed 5) into a SQLite data directory, and its
    /// `state dump` (RecoveryTests' kill -9 and StoreOutageCliTests' exit-3 test).
    /// </summary>
    public Task<IngestOnlyReference> IngestOnlyAsync() => OnceAsync(() => _ingestOnly, async () =>
    {
        string input = GeneratedInput.Write(_dir.File("ingest.jsonl"), users: 3000);
        string clean = _dir.File("ingest-clean");
        var (code, _, stderr) = await EngineProcess.RunAsync(_dir.Path, Timeout, "run", "--ingest-only", "--input", input, "--data-dir", clean);
        Assert.True(code == 0, stderr);
        return _ingestOnly = new IngestOnlyReference(input, await DumpAsync(clean));
    });

    /// <summary>
    /// A scoring run over 1,500 generated users (2 days, seed 17) with a zscore model (300 users, 2 days, seed 4) and
    /// fixed thresholds (a crash must not change a decision): its alert ids (AlertCrashTests, StoreOutageCliTests).
    /// </summary>
    public Task<ScoringReference> ScoringAsync() => OnceAsync(() => _scoring, async () =>
    {
        string input = GeneratedInput.Write(_dir.File("traffic.jsonl"), users: 1500, days: 2, seed: 17);
        string model = QuickModel.TrainAndSave(_dir.Path, "zscore", users: 300, days: 2, seed: 4);
        await File.WriteAllTextAsync(_dir.File("fixed.conf"),
            "streamdetect.thresholds { mode = fixed, fixed { new = 1.5, established = 1.5 } }\nstreamdetect.alerts.cooldown = 2h\n",
            TestContext.Current.CancellationToken);
        string[] run = ["run", "--input", input, "--model", model, "--device", "cpu", "--config", _dir.File("fixed.conf")];
        var (code, _, stderr) = await EngineProcess.RunAsync(_dir.Path, Timeout, [.. run, "--alerts", _dir.File("reference.jsonl"), "--data-dir", _dir.File("scoring-clean")]);
        Assert.True(code == 0, stderr);
        var ids = File.ReadAllLines(_dir.File("reference.jsonl"))
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("alertId").GetString()!).ToList();
        return _scoring = new ScoringReference(run, ids);
    });

    /// <summary>The `state dump` of the scoring run's data directory (made on first use).</summary>
    public async Task<string> ScoringDumpAsync()
    {
        await ScoringAsync();
        return await OnceAsync(() => _scoringDump, async () => _scoringDump = await DumpAsync(_dir.File("scoring-clean")));
    }

    private async Task<string> DumpAsync(string dataDirectory)
    {
        string dump = Path.Combine(dataDirectory, "dump.jsonl");
        var (code, _, stderr) = await EngineProcess.RunAsync(_dir.Path, Timeout, "state", "dump", "--data-dir", dataDirectory, "--out", dump);
        Assert.True(code == 0, stderr);
        return await File.ReadAllTextAsync(dump, TestContext.Current.CancellationToken);
    }

    private async Task<T> OnceAsync<T>(Func<T?> made, Func<Task<T>> make) where T : class
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            return made() ?? await make();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _dir.Dispose();
        _gate.Dispose();
    }
}
