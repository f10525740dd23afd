namespace StreamDetect.Engine.Registry;

/// <summary>The words the registry tables and the `models` command use for statuses, origins and lifecycle events.</summary>
internal static class RegistryNames
{
    public static string Of(ModelStatus status) => status.ToString().ToLowerInvariant();

    public static string Of(ModelOrigin origin) => origin == ModelOrigin.FineTuned ? "fine-tuned" : "trained";

    public static string Of(LifecycleEvent change) => change == LifecycleEvent.RolledBack ? "rolled-back" : change.ToString().ToLowerInvariant();

    public static ModelStatus Status(string text) =>
        Parse<ModelStatus>(text, Of, "model status");

    public static ModelOrigin Origin(string text) => text switch
    {
        "trained" => ModelOrigin.Trained,
        "fine-tuned" => ModelOrigin.FineTuned,
        _ => throw new InvalidDataException($"unknown model origin '{text}' in the registry"),
    };

    public static LifecycleEvent Event(string text) =>
        Parse<LifecycleEvent>(text, Of, "lifecycle event");

    private static T Parse<T>(string text, Func<T, string> word, string what) where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (word(value) == text) return value;
        }
        throw new InvalidDataException($"unknown {what} '{text}' in the registry");
    }
}
