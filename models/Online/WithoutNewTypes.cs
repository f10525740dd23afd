namespace StreamDetect.Models.Online;

/// <summary>
/// A sample judged without the events of the new types in its window (types the base version does not know, each
/// shown by a population: <see cref="NewTypePopulation"/>), for the guard's new-type rule.
/// </summary>
/// <param name="ChampionScore">The calibrated score of the window's last remaining event under the champion.</param>
/// <param name="BaseScore">The same under the base version.</param>
/// <param name="AlertsExplained">Whether the alert of the sample's event (when it alerted) and the alert that put its
/// user in cooldown (when it is in one) score below the score quantile under the champion when judged the same way:
/// the new types alone raised them. False when neither is known to be explained.</param>
public sealed record WithoutNewTypes(double ChampionScore, double BaseScore, bool AlertsExplained);
