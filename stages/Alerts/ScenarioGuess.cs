namespace StreamDetect.Stages.Alerts;

/// <summary>The scenario family a <see cref="ScenarioRules"/> rule tells from the alert's window, and the rule, in words, with what it counted.</summary>
public sealed record ScenarioGuess(string Family, string Rule);
