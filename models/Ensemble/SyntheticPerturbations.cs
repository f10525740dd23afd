using StreamDetect.Models.Dataset;
using StreamDetect.Models.Events;

namespace StreamDetect.Models.Ensemble;

/// <summary>
/// Synthetic anomalies made from normal validation users, to judge ensemble members without test labels: each
/// sampled user gets a copy with one perturbation inside its scored period (after <c>fromMs</c>), the kind
/// taking turns: <see cref="PerturbationKind.Shuffle"/> (six events in another order), <see cref="PerturbationKind.Drop"/>
/// (two events left out), <see cref="PerturbationKind.Insert"/> (two events of a random type seen among the
/// validation users), <see cref="PerturbationKind.Burst"/> (one event repeated eight times a second apart) and
/// <see cref="PerturbationKind.Amount"/> (three amounts multiplied by 20; a burst where the user has none).
/// <see cref="Shift"/> makes the other kind of copy: the same user twelve hours later, still normal.
/// Copies keep the user's session rule, so their end markers fall where the stream would put them. Truncated
/// sessions are not made here.
/// </summary>
internal static class SyntheticPerturbations
{
    public const int MinScoredEvents = 4;

    /// <summary>Up to <paramref name="maxUsers"/> validation users with at least <see cref="MinScoredEvents"/> events
    /// from <paramref name="fromMs"/> on (a deterministic sample for the seed), a perturbed copy of each, and the index
    /// of each user's first perturbed event (the same index in the user and its copy).</summary>
    /// <remarks>Users and copies end <paramref name="span"/> entries after that index (cut there as an end of input),
    /// so that replaying them costs what judging them needs.</remarks>
    public static (UserSequence[] Normal, UserSequence[] Perturbed, int[] NormalAt, int[] PerturbedAt) Build(BehaviorDataset validation, long fromMs,
        int maxUsers, int seed, int span)
    {
        var random = new Random(seed);
        var candidates = validation.Users.Where(u => ScoredFrom(u, fromMs) <= u.Count - MinScoredEvents).ToList();
        // A deterministic sample: a partial Fisher-Yates shuffle.
        int take = Math.Min(maxUsers, candidates.Count);
        for (int i = 0; i < take; i++)
        {
            int j = i + random.Next(candidates.Count - i);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        var normal = candidates.Take(take).ToArray();
        var types = validation.Users.SelectMany(Events).Select(e => e.Type)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var kinds = Enum.GetValues<PerturbationKind>();
        var perturbed = new UserSequence[take];
        var normalAt = new int[take];
        var perturbedAt = new int[take];
        for (int i = 0; i < take; i++)
        {
            (perturbed[i], long atMs) = Perturb(normal[i], fromMs, kinds[i % kinds.Length], types, random);
            normalAt[i] = FirstEventAt(normal[i], atMs);
            perturbedAt[i] = FirstEventAt(perturbed[i], atMs);
            normal[i] = Cut(normal[i], normalAt[i] + span);
            perturbed[i] = Cut(perturbed[i], perturbedAt[i] + span);
        }
        return (normal, perturbed, normalAt, perturbedAt);
    }

    private static int ScoredFrom(UserSequence user, long fromMs)
    {
        int s = 0;
        while (s < user.Count && user.TimestampMs(s) < fromMs) s++;
        return s;
    }

    /// <summary>The user's events (end markers left out: a copy places its own with the user's session rule).</summary>
    private static IEnumerable<UserEvent> Events(UserSequence user) => Enumerable.Range(0, user.Count).Select(user.EventAt).OfType<UserEvent>();

    /// <summary>The user without its entries from <paramref name="end"/> on (those at the time of entry <paramref name="end"/> go too).</summary>
    private static UserSequence Cut(UserSequence user, int end) =>
        end >= user.Count || user.TimestampMs(end) <= user.FirstEventMs ? user : user.Before(user.TimestampMs(end)) ?? user;

    /// <summary>The entry index of the user's first event at or after <paramref name="ms"/>.</summary>
    private static int FirstEventAt(UserSequence user, long ms)
    {
        for (int k = 0; k < user.Count; k++)
            if (!user.IsEndMarker(k) && user.TimestampMs(k) >= ms) return k;
        return user.Count;
    }

    /// <summary>A perturbed copy of the user and the time of its first perturbed event.</summary>
    internal static (UserSequence User, long AtMs) Perturb(UserSequence user, long fromMs, PerturbationKind kind, string[] types, Random random)
    {
        var events = Events(user).ToList();
        int scored = 0;
        while (scored < events.Count && events[scored].TimestampMs < fromMs) scored++;
        int q = scored + random.Next(Math.Max(1, events.Count - scored - 1));
        string id = $"{user.UserId}~{kind.ToString().ToLowerInvariant()}";
        if (kind == PerturbationKind.Amount && !events.Skip(q).Any(e => e.Amount is not null)) kind = PerturbationKind.Burst;
        switch (kind)
        {
            case PerturbationKind.Shuffle:
            {
                int end = Math.Min(events.Count, q + 6);
                var segment = events.GetRange(q, end - q);
                var order = segment.Select(e => e.Type).ToArray();
                random.Shuffle(order);
                if (order.SequenceEqual(segment.Select(e => e.Type))) order = [.. order.Reverse()];
                for (int k = 0; k < segment.Count; k++) events[q + k] = Copy(segment[k], segment[k].TimestampMs, order[k]);
                break;
            }
            case PerturbationKind.Drop:
                events.RemoveRange(q, Math.Min(2, events.Count - q - 1));
                break;
            case PerturbationKind.Insert:
                for (int k = 0; k < 2; k++) events.Insert(q, Copy(events[q], events[q].TimestampMs, types[random.Next(types.Length)]));
                break;
            case PerturbationKind.Burst:
            {
                var copies = Enumerable.Range(1, 8).Select(k => Copy(events[q], events[q].TimestampMs + k * 1000L, events[q].Type)).ToArray();
                for (int k = q + 1; k < events.Count; k++) events[k] = Copy(events[k], events[k].TimestampMs + 8000L, events[k].Type);
                events.InsertRange(q + 1, copies);
                break;
            }
            default:
            {
                int changed = 0;
                for (int k = q; k < events.Count && changed < 3; k++)
                {
                    if (events[k].Amount is not { } amount) continue;
                    events[k] = Copy(events[k], events[k].TimestampMs, events[k].Type, amount * 20);
                    changed++;
                }
                break;
            }
        }
        long atMs = events[Math.Min(q, events.Count - 1)].TimestampMs;
        return (new UserSequence(id, [.. events.Select(e => Copy(e, e.TimestampMs, e.Type, e.Amount, id))], user.Sessions), atMs);
    }

    /// <summary>A copy of the user with every event moved by <paramref name="shiftMs"/>: the same behaviour at another
    /// time of day, which a member should still take for normal.</summary>
    public static UserSequence Shift(UserSequence user, long shiftMs)
    {
        string id = $"{user.UserId}~shifted";
        return new UserSequence(id, [.. Events(user).Select(e => Copy(e, e.TimestampMs + shiftMs, e.Type, e.Amount, id))], user.Sessions);
    }

    private static UserEvent Copy(UserEvent e, long timestampMs, string type, double? amount = null, string? userId = null) =>
        new(userId ?? e.UserId, timestampMs, type)
        {
            Item = e.Item,
            Category = e.Category,
            Amount = amount ?? e.Amount,
            Query = e.Query,
            Ip = e.Ip,
            Device = e.Device,
            Session = e.Session,
        };
}
