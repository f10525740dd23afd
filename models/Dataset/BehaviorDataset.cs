namespace StreamDetect.Models.Dataset;

/// <summary>
/// A time-ordered event stream grouped per user (see <see cref="DatasetBuilder"/>): what training,
/// calibration and evaluation replay.
/// </summary>
public sealed class BehaviorDataset
{
    public BehaviorDataset(IReadOnlyList<UserSequence> users, int windowCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowCapacity, 2);
        Users = users;
        WindowCapacity = windowCapacity;
        EventCount = users.Sum(u => (long)u.EventCount);
        EntryCount = users.Sum(u => (long)u.Count);
        FirstEventMs = users.Count == 0 ? 0 : users.Min(u => u.FirstEventMs);
        LastEventMs = users.Count == 0 ? 0 : users.Max(u => u.LastEventMs);
    }

    public IReadOnlyList<UserSequence> Users { get; }

    /// <summary>Window capacity of the <see cref="Features.UserBehaviorState"/> used for replay.</summary>
    public int WindowCapacity { get; }

    /// <summary>The users' events (end markers not counted).</summary>
    public long EventCount { get; }

    /// <summary>Entries replayed: the events plus the session end markers.</summary>
    public long EntryCount { get; }

    public long FirstEventMs { get; }

    public long LastEventMs { get; }

    /// <summary>Whether the events carry ground-truth labels.</summary>
    public bool HasLabels => Users.Any(u => u.HasAnyLabel);

    /// <summary>Only the events before <paramref name="cutMs"/> (users without such events are dropped).</summary>
    public BehaviorDataset Before(long cutMs) =>
        new(Users.Select(u => u.Before(cutMs)).OfType<UserSequence>().ToArray(), WindowCapacity);

    /// <summary>
    /// Drops every user with an event labelled anomalous, leaving normal traffic to learn from. Labels
    /// decide who is left out; they never reach a model.
    /// </summary>
    public BehaviorDataset WithoutLabelledUsers() =>
        new(Users.Where(u => !u.HasPositiveLabel()).ToArray(), WindowCapacity);

    /// <summary>Number of users with an event labelled anomalous.</summary>
    public int LabelledUserCount => Users.Count(u => u.HasPositiveLabel());

    /// <summary>Splits by user (a user's events stay together), deterministically for a seed.</summary>
    public (BehaviorDataset Training, BehaviorDataset Validation) SplitUsers(double validationFraction, int seed)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be in [0, 1)");
        var training = new List<UserSequence>();
        var validation = new List<UserSequence>();
        foreach (var user in Users)
        {
            (UserFraction(user.UserId, seed) < validationFraction ? validation : training).Add(user);
        }
        return (new BehaviorDataset(training, WindowCapacity), new BehaviorDataset(validation, WindowCapacity));
    }

    /// <summary>A uniform [0, 1) number per (user, seed), stable across runs and machines.</summary>
    internal static double UserFraction(string userId, int seed)
    {
        ulong x = (uint)Features.StableHash.Of(userId) ^ ((ulong)(uint)seed << 32);
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}
