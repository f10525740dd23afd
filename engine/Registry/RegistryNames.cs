namespace StreamDetect.Engine.Registry;

/// <summary>The words the registry tables and the `models` command use for statuses, origins and lifecycle events.</summary>
internal static class RegistryNames
{
    public static string Of(ModelStatus status) => status.ToString().ToLowerInvariant();

    public static string Of(ModelOrigin origin) => origin == ModelOrigin.FineTuned ? "fine-tuned" : "trained";

    public static string Of(LifecycleEvent change) => change == LifecycleEvent.RolledBack ? "rolled-back" : change.ToString().ToLowerInvariant();

    public static ModelStatus Status(string text) =>
        Enum.GetValues<ModelStatus>().FirstOrDefault(s => Of(s) == text, (ModelStatus)(-1)) is var status && Enum.IsDefined(status)
            ? status
            : throw new InvalidDataException($"unknown model status '{text}' in the registry");

    public static ModelOrigin Origin(string text) => text switch
    {
        "trained" => ModelOrigin.Trained,
        "fine-tuned" => ModelOrigin.FineTuned,
        _ => throw new InvalidDataException($"unknown model origin '{text}' in the registry"),
    };

    public static LifecycleEvent Event(string text) =>
        Enum.GetValues<LifecycleEvent>().FirstOrDefault(e => Of(e) == text, (LifecycleEvent)(-1)) is var change && Enum.IsDefined(change)
            ? change
            : throw new InvalidDataException($"unknown lifecycle event '{text}' in the registry");
}
