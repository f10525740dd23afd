using StreamDetect.Models.Dataset;

namespace StreamDetect.Models.Online;

/// <summary>
/// A fixed random sample of the original training users (reservoir sampling, seeded): every fine-tuning batch mixes
/// some of them in, and the anchor gate measures forgetting on them.
/// </summary>
public sealed class AnchorReservoir
{
    private AnchorReservoir(UserSequence[] users, int windowCapacity)
    {
        Users = users;
        WindowCapacity = windowCapacity;
    }

    public IReadOnlyList<UserSequence> Users { get; }

    /// <summary>The window capacity of the data the users came from (what replaying them needs).</summary>
    public int WindowCapacity { get; }

    public int Count => Users.Count;

    /// <summary>Keeps <paramref name="capacity"/> users of <paramref name="training"/>, each with the same probability.</summary>
    public static AnchorReservoir Sample(BehaviorDataset training, int capacity, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var random = new Random(seed);
        var kept = new List<UserSequence>(Math.Min(capacity, training.Users.Count));
        for (int i = 0; i < training.Users.Count; i++)
        {
            if (kept.Count < capacity) kept.Add(training.Users[i]);
            else
            {
                long draw = random.NextInt64(i + 1);
                if (draw < capacity) kept[(int)draw] = training.Users[i];
            }
        }
        if (kept.Count == 0) throw new ArgumentException("the training data has no users to anchor on", nameof(training));
        return new AnchorReservoir([.. kept], training.WindowCapacity);
    }

    /// <summary>The anchor users as a dataset (for replays and losses).</summary>
    public BehaviorDataset ToDataset() => new(Users, WindowCapacity);
}
