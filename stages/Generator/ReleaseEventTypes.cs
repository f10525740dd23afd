namespace StreamDetect.Stages.Generator;

/// <summary>
/// Event types that only exist after the release of the benign-drift scenario (<see cref="DriftSettings"/>): new
/// features of the shop that normal users start to use. They are not in <c>EventTypes.Known</c> on purpose: a model
/// trained before the release has never seen them, which is what the drift is about.
/// </summary>
public static class ReleaseEventTypes
{
    /// <summary>A question to the new shopping assistant (it answers with items, which are then clicked).</summary>
    public const string Assistant = "assistant";

    /// <summary>One-click purchase of the viewed item: no cart, no checkout page.</summary>
    public const string ExpressCheckout = "express_checkout";

    /// <summary>Both, in a fixed order.</summary>
    public static IReadOnlyList<string> All { get; } = [Assistant, ExpressCheckout];
}
