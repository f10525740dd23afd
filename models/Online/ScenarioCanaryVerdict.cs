namespace StreamDetect.Models.Online;

/// <summary>What <see cref="ScenarioCanaryRule.Judge"/> found: every scenario group (sorted by name) and the level each
/// group's sign test was held to (Tarone's: the significance over the number of groups that could reach it).</summary>
public sealed record ScenarioCanaryVerdict(IReadOnlyList<ScenarioCanaryGroup> Groups, double Level)
{
    /// <summary>The groups that failed (most significant first).</summary>
    public IReadOnlyList<ScenarioCanaryGroup> Failing { get; } =
        Groups.Where(g => g.Failed).OrderBy(g => g.P).ThenBy(g => g.Scenario, StringComparer.Ordinal).ToArray();

    /// <summary>Whether no group failed.</summary>
    public bool Passed => Failing.Count == 0;
}
