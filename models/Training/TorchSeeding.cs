using TorchSharp;

namespace StreamDetect.Models.Training;

/// <summary>
/// Builds networks under a fixed seed. torch's default generator is process-wide, so two trainings on
/// different threads would interleave their draws; seeding and constructing under one lock keeps every
/// network's initial weights a function of the seed alone. Random draws during training use a
/// generator of their own (<see cref="Generator"/>).
/// </summary>
internal static class TorchSeeding
{
    private static readonly object Gate = new();

    public static T Build<T>(int seed, Func<T> build)
    {
        lock (Gate)
        {
            torch.manual_seed(seed);
            return build();
        }
    }

    /// <summary>A CPU generator of its own for a model's random draws during training.</summary>
    public static torch.Generator Generator(int seed, string model) =>
        new((ulong)(uint)unchecked(seed * 1_000_003 + Features.StableHash.Of(model)), torch.CPU);
}
