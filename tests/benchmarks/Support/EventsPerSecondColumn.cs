using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StreamDetect.Benchmarks.Support;

/// <summary>A summary column: events of one benchmark invocation over its mean time.</summary>
/// <param name="legend">What the events are.</param>
/// <param name="eventsPerInvocation">How many events one invocation of a benchmark case handles.</param>
internal sealed class EventsPerSecondColumn(string legend, Func<BenchmarkCase, double> eventsPerInvocation) : IColumn
{
    public string Id => "EventsPerSecond";
    public string ColumnName => "events/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } statistics) return "-";
        return (eventsPerInvocation(benchmarkCase) / (statistics.Mean / 1e9)).ToString("N0", CultureInfo.InvariantCulture);
    }
}
