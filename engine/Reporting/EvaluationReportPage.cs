namespace StreamDetect.Engine.Reporting;

/// <summary>
/// What kind of page <see cref="EvaluationReportWriter"/> writes around the figures: `eval` (scores from a replay of a
/// labelled file) or `run` (scores and alerts of the stream itself, labelled or not).
/// </summary>
/// <param name="Heading">The page's heading and title, e.g. "Evaluation of ensemble@5db0".</param>
/// <param name="Labelled">
/// Whether the scored events carried labels. Without labels the ROC and precision-recall figures and the per-scenario
/// tables are omitted (the page says so), the histogram shows every user as one class and the alerts figure every alert.
/// </param>
/// <param name="AlertsAreEmitted">The alerts figure shows alerts the run emitted (its own per-segment thresholds), not events at or above the report's threshold.</param>
/// <param name="Notes">Paragraphs of plain text shown under the heading (HTML-encoded when written).</param>
public sealed record EvaluationReportPage(string Heading, bool Labelled, bool AlertsAreEmitted, IReadOnlyList<string> Notes)
{
    /// <summary>The page of `eval --report`.</summary>
    public static EvaluationReportPage Evaluation(string model) => new($"Evaluation of {model}", true, false, []);
}
