using StreamDetect.Engine.Configuration;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>Every input `run` can read, by kind and by HOCON name: the one place that lists them.</summary>
public static class EventInputs
{
    private static readonly IEventInput[] All = [new FileInput(), new GeneratorInput(), new KafkaInput()];

    /// <summary>The names accepted by <c>streamdetect.source</c> and <c>run --source</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(i => i.Name).ToArray();

    public static IEventInput For(EventSourceKind kind) => All.First(i => i.Kind == kind);

    /// <summary>The input named <paramref name="name"/>; a <see cref="UserInputException"/> naming <paramref name="option"/> and the known names otherwise.</summary>
    public static IEventInput Named(string name, string option) =>
        All.FirstOrDefault(i => i.Name == name) ?? throw new UserInputException($"{option}: unknown source '{name}' (known: {string.Join(", ", Names)})");
}
