using Akka.Configuration;
using StreamDetect.Stages.Configuration;

namespace StreamDetect.Engine.Online;

/// <summary>
/// How the canary-recall gate's set is completed when the training data holds too few attack users (HOCON
/// <c>streamdetect.online-learning.min-canary-users</c> and <c>canary-max-unknown-share</c>, commented in
/// hocon/streamdetect.conf): see <see cref="CanarySet"/>.
/// </summary>
public sealed record CanarySettings
{
    private const string Block = "streamdetect.online-learning";

    /// <summary>Fewest canary users the gate measures recall on: below it, the set is completed with the built-in
    /// generator's scenario episodes. 0: never completed (only the training data's attack users).</summary>
    public int MinUsers { get; init; } = 100;

    /// <summary>The largest share of the generated canaries' events whose type the model does not know for them to be
    /// used; above it the model's vocabulary cannot represent the generator's traffic (another kind of data).</summary>
    public double MaxUnknownShare { get; init; } = 0.01;

    /// <summary>Reads the two keys; a bad value throws a <see cref="SettingsException"/> naming its key.</summary>
    public static CanarySettings Read(Config config)
    {
        var r = new SettingsReader(config, Block);
        return new CanarySettings
        {
            MinUsers = r.Int("min-canary-users", 0, 100_000),
            MaxUnknownShare = r.Double("canary-max-unknown-share", 0, 1),
        };
    }
}
