using BenchmarkDotNet.Attributes;
using StreamDetect.Stages.Generator;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Benchmarks.Parsing;

/// <summary>
/// Parse + validate throughput on one core, over realistic generated events (~180 bytes each).
/// Goal (issue 2): at least 800k events/s per core. Events/s = <see cref="Events"/> / mean time.
/// Run: dotnet run -c Release --project tests/benchmarks -- --filter '*EventParsing*'
/// </summary>
[MemoryDiagnoser]
public class EventParsingBenchmark
{
    public const int Events = 100_000;

    private byte[][] _lines = [];
    private RawRecord[] _records = [];
    private string _file = "";
    private readonly EventParser _parser = new(ValidationSettings.Default);

    [GlobalSetup]
    public void Setup()
    {
        var generator = new TrafficGenerator(GeneratorSettings.Default with { Users = 2000, Days = 3, Seed = 3 });
        _lines = generator.Events().Take(Events).Select(UserEventJson.ToUtf8).ToArray();
        _records = _lines.Select((l, i) => new RawRecord(l, new SourcePosition("bench", 0, i + 1), l.Length)).ToArray();
        _file = Path.Combine(Path.GetTempPath(), $"sd-parse-bench-{Environment.ProcessId}.jsonl");
        using var stream = File.Create(_file);
        foreach (byte[] line in _lines)
        {
            stream.Write(line);
            stream.WriteByte((byte)'\n');
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_file);

    /// <summary>JSON decode and validation alone (System.Text.Json source generation).</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public int ParseJson()
    {
        int valid = 0;
        foreach (byte[] line in _lines)
            if (_parser.ParseJson(line).Event is not null) valid++;
        return valid;
    }

    /// <summary>Reading the file into records (line splitting, positions) and parsing them.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public int ReadAndParseFile()
    {
        int valid = 0;
        foreach (var record in new RecordFileReader(_file, 65536).Read())
            if (_parser.Parse(record) is IngestedEvent) valid++;
        return valid;
    }
}
