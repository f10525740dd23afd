using StreamDetect.Models.Events;

namespace StreamDetect.Models.Features;

/// <summary>
/// Running behaviour statistics of one user, updated in O(1) per event and independent of how events
/// were batched (only event times are used, never the wall clock), so the same events always give the
/// same features.
/// <para>
/// Counts per type over 1 min / 10 min / 1 h / 24 h are exponentially decayed counts with a time
/// constant equal to the horizon: a burst of k events within the horizon contributes about k, and
/// the count fades over about one horizon afterwards. This keeps the state at a few hundred bytes
/// per user where exact sliding windows would have to keep every event time of the last 24 h.
/// </para>
/// </summary>
public sealed class BehaviorProfile
{
    internal const int Horizons = 4;
    internal const int DeviceSlots = 8;
    internal const int PurchasedSlots = 16;
    internal const long SessionGapMs = 30 * 60 * 1000;
    private const int ItemBitmapWords = 8;     // 512 bits, linear counting
    private const int CategoryBitmapWords = 4; // 256 bits

    internal readonly float[] Counts = new float[Horizons * EventTypes.ProfileBuckets];
    internal long LastTimeMs = long.MinValue;
    internal long FirstTimeMs;
    internal long EventsTotal;

    // inter-event gaps (log seconds), Welford
    internal long GapCount;
    internal double GapLogMean;
    internal double GapLogM2;
    internal double LastGapSeconds;

    internal readonly ulong[] ItemBits = new ulong[ItemBitmapWords];
    internal readonly ulong[] CategoryBits = new ulong[CategoryBitmapWords];

    internal int LoginFailStreak, LoginFailStreakMax, PayFailStreak, PayFailStreakMax;

    // amounts, Welford
    internal long AmountCount;
    internal double AmountMean, AmountM2, AmountMax, LastAmount;

    internal readonly int[] Devices = new int[DeviceSlots];
    internal readonly int[] Ips = new int[DeviceSlots];
    internal int DeviceCount, IpCount;
    internal bool LastDeviceNew, LastIpNew;
    internal long EventsSinceNewDevice;

    internal long Sessions;
    internal int CurrentSessionHash;
    internal long SessionStartMs, SessionEvents, SessionEventsTotal;

    internal long Carts, Purchases, Reviews, ReviewsWithoutPurchase;
    internal readonly int[] Purchased = new int[PurchasedSlots];
    internal int PurchasedNext;
    internal long LastLoginMs = long.MinValue;

    private static readonly double[] HorizonMs = FeatureSchema.HorizonSeconds.Select(s => s * 1000.0).ToArray();

    /// <summary>Folds one event into the statistics. Events should arrive in time order; an earlier
    /// time than the last is treated as simultaneous with it.</summary>
    public void Apply(UserEvent e, int itemHash, int categoryHash)
    {
        long t = EventsTotal == 0 ? e.TimestampMs : Math.Max(e.TimestampMs, LastTimeMs);
        if (EventsTotal == 0)
        {
            FirstTimeMs = t;
        }
        else
        {
            long gapMs = t - LastTimeMs;
            Decay(gapMs);
            LastGapSeconds = gapMs / 1000.0;
            double logGap = Math.Log(1.0 + LastGapSeconds);
            GapCount++;
            double delta = logGap - GapLogMean;
            GapLogMean += delta / GapCount;
            GapLogM2 += delta * (logGap - GapLogMean);
        }

        int bucket = EventTypes.ProfileIndex(e.Type);
        for (int h = 0; h < Horizons; h++) Counts[h * EventTypes.ProfileBuckets + bucket] += 1f;

        if (itemHash != 0) SetBit(ItemBits, itemHash);
        if (categoryHash != 0) SetBit(CategoryBits, categoryHash);

        switch (e.Type)
        {
            case EventTypes.LoginFail:
                LoginFailStreak++;
                LoginFailStreakMax = Math.Max(LoginFailStreakMax, LoginFailStreak);
                break;
            case EventTypes.Login:
                LoginFailStreak = 0;
                LastLoginMs = t;
                break;
            case EventTypes.PayFail:
                PayFailStreak++;
                PayFailStreakMax = Math.Max(PayFailStreakMax, PayFailStreak);
                break;
            case EventTypes.Purchase:
                PayFailStreak = 0;
                Purchases++;
                if (itemHash != 0)
                {
                    Purchased[PurchasedNext] = itemHash;
                    PurchasedNext = (PurchasedNext + 1) % PurchasedSlots;
                }
                break;
            case EventTypes.Cart:
                Carts++;
                break;
            case EventTypes.Review:
                Reviews++;
                if (itemHash == 0 || Array.IndexOf(Purchased, itemHash) < 0) ReviewsWithoutPurchase++;
                break;
        }

        if (e.Amount is double amount)
        {
            LastAmount = amount;
            AmountCount++;
            double delta = amount - AmountMean;
            AmountMean += delta / AmountCount;
            AmountM2 += delta * (amount - AmountMean);
            AmountMax = Math.Max(AmountMax, amount);
        }

        LastDeviceNew = e.Device is not null && Remember(Devices, ref DeviceCount, StableHash.Of(e.Device));
        LastIpNew = e.Ip is not null && Remember(Ips, ref IpCount, StableHash.Of(e.Ip));
        EventsSinceNewDevice = LastDeviceNew ? 0 : EventsSinceNewDevice + 1;

        int sessionHash = e.Session is null ? 0 : StableHash.Of(e.Session);
        bool newSession = EventsTotal == 0
            || (sessionHash != 0 ? sessionHash != CurrentSessionHash : t - LastTimeMs > SessionGapMs);
        if (newSession)
        {
            Sessions++;
            SessionStartMs = t;
            SessionEvents = 0;
            CurrentSessionHash = sessionHash;
        }
        SessionEvents++;
        SessionEventsTotal++;

        EventsTotal++;
        LastTimeMs = t;
    }

    private void Decay(long gapMs)
    {
        if (gapMs <= 0) return;
        for (int h = 0; h < Horizons; h++)
        {
            float factor = MathF.Exp((float)(-gapMs / HorizonMs[h]));
            int offset = h * EventTypes.ProfileBuckets;
            for (int b = 0; b < EventTypes.ProfileBuckets; b++) Counts[offset + b] *= factor;
        }
    }

    private static void SetBit(ulong[] bits, int hash)
    {
        uint bit = (uint)hash % (uint)(bits.Length * 64);
        bits[bit >> 6] |= 1UL << (int)(bit & 63);
    }

    /// <summary>Linear-counting estimate of distinct values hashed into a bitmap.</summary>
    internal static double DistinctEstimate(ulong[] bits)
    {
        int m = bits.Length * 64;
        int ones = 0;
        foreach (ulong word in bits) ones += System.Numerics.BitOperations.PopCount(word);
        int zeros = m - ones;
        if (zeros == 0) zeros = 1;
        return m * Math.Log((double)m / zeros);
    }

    /// <summary>Adds a hash to a small set; returns whether it was new. A full set keeps its first values.</summary>
    private static bool Remember(int[] slots, ref int count, int hash)
    {
        for (int i = 0; i < count; i++)
            if (slots[i] == hash) return false;
        if (count < slots.Length) slots[count++] = hash;
        return true;
    }
}
