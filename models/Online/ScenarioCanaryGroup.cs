namespace StreamDetect.Models.Online;

/// <summary>One scenario's canaries in the canary-recall gate (<see cref="ScenarioCanaryRule"/>): how many there are,
/// how many the champion caught, how many of those the candidate lost and how many the champion missed it gained, the
/// one-sided sign test's P on the canaries that changed (<see cref="CanaryLossRule.SignTestP"/>), and whether the loss
/// failed the rule.</summary>
/// <param name="Scenario">The canaries' scenario (the generator's name, or a group such as "labelled" for attack users whose scenario is unknown).</param>
/// <param name="Canaries">Canaries of the scenario.</param>
/// <param name="ChampionCaught">Of those, caught by the champion.</param>
/// <param name="Lost">Caught by the champion, missed by the candidate.</param>
/// <param name="Gained">Missed by the champion, caught by the candidate.</param>
/// <param name="P">P(X &gt;= lost), X ~ Binomial(lost + gained, 1/2); 1 when nothing was lost.</param>
/// <param name="Large">Whether the net loss is more than the share of the champion's caught canaries the rule allows.</param>
/// <param name="Failed">Large and significant at the rule's level.</param>
public sealed record ScenarioCanaryGroup(string Scenario, int Canaries, int ChampionCaught, int Lost, int Gained, double P, bool Large, bool Failed)
{
    /// <summary>E.g. "checkout_loop: lost 8, gained 0 of 10, P 0.0039".</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{Scenario}: lost {Lost}, gained {Gained} of {Canaries}, P {P:G2}");
}
