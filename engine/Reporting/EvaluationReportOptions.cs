using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Reporting;

/// <summary>The figures of `eval --report`, from HOCON <c>streamdetect.report</c>.</summary>
/// <param name="FigureWidth">Width of each PNG figure in pixels.</param>
/// <param name="FigureHeight">Height of each PNG figure in pixels.</param>
/// <param name="HistogramBins">Bins of the user-score histogram.</param>
public sealed record EvaluationReportOptions(int FigureWidth, int FigureHeight, int HistogramBins)
{
    public static EvaluationReportOptions Read(Config config)
    {
        var r = new SettingsReader(config, "streamdetect.report");
        return new EvaluationReportOptions(r.Int("figure-width", 200, 10_000), r.Int("figure-height", 150, 10_000), r.Int("histogram-bins", 2, 1000));
    }
}
