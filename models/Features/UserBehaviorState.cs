using StreamDetect.Models.Events;
using StreamDetect.Models.Sessions;

namespace StreamDetect.Models.Features;

/// <summary>
/// Everything StreamDetect keeps about one user: the window of the last N events, the running
/// <see cref="BehaviorProfile"/>, and an opaque slot for model state. The streaming entities and the
/// offline trainer both build features through this one class, so training and serving agree.
/// </summary>
public sealed class UserBehaviorState
{
    /// <summary>Version of the binary layout written by <see cref="WriteTo"/>. Layout 2 adds the session state (end
    /// markers folded, whether a session is open and its <c>session</c> field); layout 1 is still read.</summary>
    public const byte SerializationVersion = 2;

    private const byte FirstSessionVersion = 2;

    private readonly BehaviorProfile _profile = new();
    private long _markers;

    public UserBehaviorState(int windowCapacity = 32)
    {
        Window = new EventWindow(windowCapacity);
    }

    public EventWindow Window { get; }

    /// <summary>Events folded into this state.</summary>
    public long EventCount => _profile.EventsTotal;

    /// <summary>Time of the newest event (epoch ms); meaningless while <see cref="EventCount"/> is 0.</summary>
    public long LastEventMs => _profile.LastTimeMs;

    /// <summary>Time of the first event (epoch ms).</summary>
    public long FirstEventMs => _profile.FirstTimeMs;

    /// <summary>Window entries folded into this state: the user's events plus the session end markers
    /// (<see cref="CloseSession"/>). This is what <c>ScoringInput.EventCount</c> carries, since the window holds both.</summary>
    public long EntryCount => _profile.EventsTotal + _markers;

    /// <summary>Whether an event was folded since the last end marker (a session is open).</summary>
    public bool SessionOpen { get; private set; }

    /// <summary>The open session's <c>session</c> field (null when the event had none or no session is open).</summary>
    public string? SessionField { get; private set; }

    /// <summary>A model's per-user state, or null.</summary>
    public ModelStateSlot? ModelState { get; set; }

    /// <summary>Folds one event into the window and the profile; it opens a session when none is open.</summary>
    public void Apply(UserEvent e)
    {
        int item = StableHash.Of(e.Item);
        int category = StableHash.Of(e.Category);
        _profile.Apply(e, item, category);
        Window.Add(new WindowEntry(e.Type, _profile.LastTimeMs, e.Amount is double a ? (float)a : float.NaN, item, category));
        SessionOpen = true;
        SessionField = e.Session;
    }

    /// <summary>
    /// Whether <paramref name="rule"/> closes the open session before <paramref name="next"/> is folded: a session is
    /// open and the gap since its last event, or a change of the <c>session</c> field, ends it. The caller then calls
    /// <see cref="CloseSession"/> before <see cref="Apply"/>.
    /// </summary>
    public bool ClosesSessionBefore(UserEvent next, SessionRule rule) =>
        SessionOpen && rule.ClosesBefore(_profile.LastTimeMs, SessionField, next.TimestampMs, next.Session);

    /// <summary>
    /// Closes the open session: appends its end marker (<see cref="SessionRule.EndMarker"/>, time of its last event)
    /// to the window. The profile is not changed (its counters count user events only). Returns false, adding
    /// nothing, when no session is open (so a session never gets two markers).
    /// </summary>
    public bool CloseSession()
    {
        if (!SessionOpen) return false;
        Window.Add(SessionRule.EndMarker(_profile.LastTimeMs));
        _markers++;
        SessionOpen = false;
        SessionField = null;
        return true;
    }

    /// <summary>Writes the feature vector (layout: <see cref="FeatureSchema"/>) as of the newest event.</summary>
    public void WriteFeatures(Span<float> destination)
    {
        if (destination.Length < FeatureSchema.Count)
            throw new ArgumentException($"destination holds {destination.Length} values, the schema has {FeatureSchema.Count}", nameof(destination));
        var p = _profile;
        int i = 0;
        int buckets = EventTypes.ProfileBuckets;
        for (int h = 0; h < BehaviorProfile.Horizons; h++)
        {
            float total = 0;
            for (int b = 0; b < buckets; b++)
            {
                float c = p.Counts[h * buckets + b];
                total += c;
                destination[i++] = Log1p(c);
            }
            destination[i++] = Log1p(total);
        }

        destination[i++] = Log1p(p.EventsTotal);
        destination[i++] = Log1p(p.EventsTotal == 0 ? 0 : (p.LastTimeMs - p.FirstTimeMs) / 1000.0);
        destination[i++] = Log1p(p.LastGapSeconds);
        destination[i++] = (float)p.GapLogMean;
        destination[i++] = (float)(p.GapCount > 1 ? Math.Sqrt(p.GapLogM2 / (p.GapCount - 1)) : 0);

        WindowStats(out double minGap, out double fastShare, out double distinctItems, out double distinctCategories,
            out double maxItemShare, out double entropy);
        destination[i++] = Log1p(minGap);
        destination[i++] = (float)fastShare;
        destination[i++] = (float)distinctItems;
        destination[i++] = (float)distinctCategories;
        destination[i++] = (float)maxItemShare;
        destination[i++] = (float)entropy;
        destination[i++] = Log1p(BehaviorProfile.DistinctEstimate(p.ItemBits));
        destination[i++] = Log1p(BehaviorProfile.DistinctEstimate(p.CategoryBits));

        destination[i++] = Log1p(p.LoginFailStreak);
        destination[i++] = Log1p(p.LoginFailStreakMax);
        destination[i++] = Log1p(p.PayFailStreak);
        destination[i++] = Log1p(p.PayFailStreakMax);

        double std = p.AmountCount > 1 ? Math.Sqrt(p.AmountM2 / (p.AmountCount - 1)) : 0;
        destination[i++] = Log1p(p.LastAmount);
        destination[i++] = Log1p(p.AmountMean);
        destination[i++] = Log1p(std);
        destination[i++] = Log1p(p.AmountMax);
        destination[i++] = p.AmountCount > 1 ? (float)Math.Clamp((p.LastAmount - p.AmountMean) / (std + 1.0), -10, 10) : 0f;

        destination[i++] = p.LastDeviceNew && p.EventsTotal > 1 ? 1f : 0f;
        destination[i++] = p.LastIpNew && p.EventsTotal > 1 ? 1f : 0f;
        destination[i++] = p.DeviceCount;
        destination[i++] = p.IpCount;
        destination[i++] = Log1p(p.EventsSinceNewDevice);

        destination[i++] = Log1p(p.Sessions);
        destination[i++] = Log1p(p.SessionEvents);
        destination[i++] = Log1p((p.LastTimeMs - p.SessionStartMs) / 1000.0);
        destination[i++] = Log1p(p.Sessions == 0 ? 0 : (double)p.SessionEventsTotal / p.Sessions);

        double hour = p.EventsTotal == 0 ? 0 : ((p.LastTimeMs % 86_400_000 + 86_400_000) % 86_400_000) / 3_600_000.0;
        destination[i++] = (float)Math.Sin(hour / 24.0 * 2 * Math.PI);
        destination[i++] = (float)Math.Cos(hour / 24.0 * 2 * Math.PI);
        destination[i++] = (float)Math.Min(4.0, p.Carts == 0 ? (p.Purchases > 0 ? 4.0 : 0.0) : (double)p.Purchases / p.Carts);
        destination[i++] = p.Reviews == 0 ? 0f : (float)p.ReviewsWithoutPurchase / p.Reviews;
        destination[i++] = Log1p(p.LastLoginMs == long.MinValue ? 30 * 86400.0 : Math.Min(30 * 86400.0, (p.LastTimeMs - p.LastLoginMs) / 1000.0));

        System.Diagnostics.Debug.Assert(i == FeatureSchema.Count);
    }

    /// <summary>The feature vector as a new array.</summary>
    public float[] Features()
    {
        var result = new float[FeatureSchema.Count];
        WriteFeatures(result);
        return result;
    }

    private void WindowStats(out double minGap, out double fastShare, out double distinctItems, out double distinctCategories,
        out double maxItemShare, out double entropy)
    {
        int kept = Window.Count;
        minGap = 0; fastShare = 0; distinctItems = 0; distinctCategories = 0; maxItemShare = 0; entropy = 0;
        if (kept == 0) return;

        // Read in place (a copy of the window per feature row cost more than the statistics). The statistics are over
        // the user's events only: end markers are left out, so they change no feature.
        Window.Segments(out var older, out var newer);
        Span<int> items = stackalloc int[kept];
        Span<int> categories = stackalloc int[kept];
        Span<int> typeCounts = stackalloc int[EventTypes.ProfileBuckets];
        int n = 0, itemCount = 0, categoryCount = 0, fast = 0;
        long minGapMs = long.MaxValue;
        long previous = 0;
        for (int part = 0; part < 2; part++)
        {
            var run = part == 0 ? older : newer;
            for (int k = 0; k < run.Length; k++)
            {
                ref readonly var entry = ref run[k];
                if (SessionRule.IsEndMarker(entry)) continue;
                if (n > 0)
                {
                    long gap = entry.TimestampMs - previous;
                    if (gap < minGapMs) minGapMs = gap;
                    if (gap < 1000) fast++;
                }
                n++;
                previous = entry.TimestampMs;
                if (entry.ItemHash != 0) items[itemCount++] = entry.ItemHash;
                if (entry.CategoryHash != 0) categories[categoryCount++] = entry.CategoryHash;
                typeCounts[entry.Bucket]++;
            }
        }
        if (n == 0) return;
        minGap = n == 1 ? 0 : minGapMs / 1000.0;
        fastShare = n > 1 ? (double)fast / (n - 1) : 0;

        items = items[..itemCount];
        categories = categories[..categoryCount];
        items.Sort();
        categories.Sort();
        int itemDistinct = CountDistinct(items, out int maxRun);
        distinctItems = (double)itemDistinct / n;
        maxItemShare = (double)maxRun / n;
        distinctCategories = (double)CountDistinct(categories, out _) / n;

        foreach (int count in typeCounts)
        {
            if (count == 0) continue;
            double q = (double)count / n;
            entropy -= q * Math.Log(q);
        }
    }

    private static int CountDistinct(ReadOnlySpan<int> sorted, out int maxRun)
    {
        int distinct = 0, run = 0;
        maxRun = 0;
        for (int k = 0; k < sorted.Length; k++)
        {
            if (k == 0 || sorted[k] != sorted[k - 1]) { distinct++; run = 1; }
            else run++;
            maxRun = Math.Max(maxRun, run);
        }
        return distinct;
    }

    private static float Log1p(double value) => MathF.Log(1f + (float)Math.Max(0.0, value));

    /// <summary>Writes the whole state in a versioned binary layout (snapshots).</summary>
    public void WriteTo(BinaryWriter w)
    {
        w.Write(SerializationVersion);
        w.Write((ushort)Window.Capacity);
        w.Write((ushort)Window.Count);
        for (int k = 0; k < Window.Count; k++)
        {
            var e = Window[k];
            w.Write(e.Type);
            w.Write(e.TimestampMs);
            w.Write(e.Amount);
            w.Write(e.ItemHash);
            w.Write(e.CategoryHash);
        }
        var p = _profile;
        w.Write((byte)p.Counts.Length);
        foreach (float c in p.Counts) w.Write(c);
        w.Write(p.LastTimeMs); w.Write(p.FirstTimeMs); w.Write(p.EventsTotal);
        w.Write(p.GapCount); w.Write(p.GapLogMean); w.Write(p.GapLogM2); w.Write(p.LastGapSeconds);
        foreach (ulong bits in p.ItemBits) w.Write(bits);
        foreach (ulong bits in p.CategoryBits) w.Write(bits);
        w.Write(p.LoginFailStreak); w.Write(p.LoginFailStreakMax); w.Write(p.PayFailStreak); w.Write(p.PayFailStreakMax);
        w.Write(p.AmountCount); w.Write(p.AmountMean); w.Write(p.AmountM2); w.Write(p.AmountMax); w.Write(p.LastAmount);
        w.Write((byte)p.DeviceCount); for (int k = 0; k < p.DeviceCount; k++) w.Write(p.Devices[k]);
        w.Write((byte)p.IpCount); for (int k = 0; k < p.IpCount; k++) w.Write(p.Ips[k]);
        w.Write(p.LastDeviceNew); w.Write(p.LastIpNew); w.Write(p.EventsSinceNewDevice);
        w.Write(p.Sessions); w.Write(p.CurrentSessionHash); w.Write(p.SessionStartMs); w.Write(p.SessionEvents); w.Write(p.SessionEventsTotal);
        w.Write(p.Carts); w.Write(p.Purchases); w.Write(p.Reviews); w.Write(p.ReviewsWithoutPurchase);
        foreach (int h in p.Purchased) w.Write(h);
        w.Write((byte)p.PurchasedNext);
        w.Write(p.LastLoginMs);

        w.Write(ModelState is not null);
        if (ModelState is { } slot)
        {
            w.Write(slot.ModelKey);
            w.Write(slot.EventsFolded);
            w.Write(slot.Values.Length);
            foreach (float v in slot.Values) w.Write(v);
        }

        // Layout 2: the session state.
        w.Write(_markers);
        w.Write(SessionOpen);
        w.Write(SessionField is not null);
        if (SessionField is not null) w.Write(SessionField);
    }

    /// <summary>Reads a state written by <see cref="WriteTo"/> (this or an older layout version).</summary>
    public static UserBehaviorState ReadFrom(BinaryReader r)
    {
        byte version = r.ReadByte();
        if (version is 0 or > SerializationVersion)
            throw new InvalidDataException($"user state layout version {version} is not supported (this build reads 1..{SerializationVersion})");
        int capacity = r.ReadUInt16();
        int count = r.ReadUInt16();
        if (capacity == 0 || count > capacity) throw new InvalidDataException($"user state window of {count}/{capacity} events is not valid");
        var state = new UserBehaviorState(capacity);
        for (int k = 0; k < count; k++)
        {
            string type = EventTypes.Intern(r.ReadString());
            state.Window.Add(new WindowEntry(type, r.ReadInt64(), r.ReadSingle(), r.ReadInt32(), r.ReadInt32()));
        }
        var p = state._profile;
        int counts = r.ReadByte();
        if (counts != p.Counts.Length)
            throw new InvalidDataException($"user state has {counts} type counters, this build expects {p.Counts.Length}");
        for (int k = 0; k < counts; k++) p.Counts[k] = r.ReadSingle();
        p.LastTimeMs = r.ReadInt64(); p.FirstTimeMs = r.ReadInt64(); p.EventsTotal = r.ReadInt64();
        p.GapCount = r.ReadInt64(); p.GapLogMean = r.ReadDouble(); p.GapLogM2 = r.ReadDouble(); p.LastGapSeconds = r.ReadDouble();
        for (int k = 0; k < p.ItemBits.Length; k++) p.ItemBits[k] = r.ReadUInt64();
        for (int k = 0; k < p.CategoryBits.Length; k++) p.CategoryBits[k] = r.ReadUInt64();
        p.LoginFailStreak = r.ReadInt32(); p.LoginFailStreakMax = r.ReadInt32(); p.PayFailStreak = r.ReadInt32(); p.PayFailStreakMax = r.ReadInt32();
        p.AmountCount = r.ReadInt64(); p.AmountMean = r.ReadDouble(); p.AmountM2 = r.ReadDouble(); p.AmountMax = r.ReadDouble(); p.LastAmount = r.ReadDouble();
        p.DeviceCount = ReadSlots(r, p.Devices);
        p.IpCount = ReadSlots(r, p.Ips);
        p.LastDeviceNew = r.ReadBoolean(); p.LastIpNew = r.ReadBoolean(); p.EventsSinceNewDevice = r.ReadInt64();
        p.Sessions = r.ReadInt64(); p.CurrentSessionHash = r.ReadInt32(); p.SessionStartMs = r.ReadInt64(); p.SessionEvents = r.ReadInt64(); p.SessionEventsTotal = r.ReadInt64();
        p.Carts = r.ReadInt64(); p.Purchases = r.ReadInt64(); p.Reviews = r.ReadInt64(); p.ReviewsWithoutPurchase = r.ReadInt64();
        for (int k = 0; k < p.Purchased.Length; k++) p.Purchased[k] = r.ReadInt32();
        p.PurchasedNext = r.ReadByte() % BehaviorProfile.PurchasedSlots;
        p.LastLoginMs = r.ReadInt64();

        if (r.ReadBoolean())
        {
            string key = r.ReadString();
            long folded = r.ReadInt64();
            int length = r.ReadInt32();
            if (length < 0 || length > 1 << 20) throw new InvalidDataException($"model state of {length} values is not plausible");
            var values = new float[length];
            for (int k = 0; k < length; k++) values[k] = r.ReadSingle();
            state.ModelState = new ModelStateSlot(key, folded, values);
        }

        if (version >= FirstSessionVersion)
        {
            state._markers = r.ReadInt64();
            if (state._markers < 0) throw new InvalidDataException($"user state holds {state._markers} session end markers");
            state.SessionOpen = r.ReadBoolean();
            state.SessionField = r.ReadBoolean() ? r.ReadString() : null;
        }
        else
        {
            // Layout 1 knew no sessions: the user's last session is open (its field unknown), no markers were folded.
            state.SessionOpen = p.EventsTotal > 0;
        }
        return state;
    }

    private static int ReadSlots(BinaryReader r, int[] slots)
    {
        int count = r.ReadByte();
        if (count > slots.Length) throw new InvalidDataException($"user state lists {count} devices/ips, at most {slots.Length} are kept");
        for (int k = 0; k < count; k++) slots[k] = r.ReadInt32();
        return count;
    }
}
