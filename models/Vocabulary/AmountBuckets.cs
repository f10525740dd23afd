namespace StreamDetect.Models.Vocabulary;

/// <summary>
/// Buckets of the event amount, with edges at quantiles of the training amounts (currencies and price
/// levels differ between platforms). Bucket 0 means "no amount"; a dataset without amounts learns no
/// edges and every event lands in bucket 0.
/// </summary>
public sealed class AmountBuckets
{
    public const int None = 0;

    private readonly float[] _edges;

    private AmountBuckets(float[] edges) => _edges = edges;

    /// <summary>Number of buckets, "no amount" included.</summary>
    public int Count => _edges.Length + 2;

    public static AmountBuckets Learn(IEnumerable<float> amounts, int buckets = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 2);
        var values = amounts.Where(float.IsFinite).ToArray();
        if (values.Length == 0) return new AmountBuckets([]);
        Array.Sort(values);
        var edges = new SortedSet<float>();
        for (int b = 1; b < buckets; b++)
        {
            float q = values[(int)Math.Min(values.Length - 1, (long)values.Length * b / buckets)];
            edges.Add(q);
        }
        return new AmountBuckets(edges.ToArray());
    }

    public int Of(float amount)
    {
        if (!float.IsFinite(amount)) return None;
        int lo = 0, hi = _edges.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (amount < _edges[mid]) hi = mid; else lo = mid + 1;
        }
        return lo + 1;
    }

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_edges.Length);
        foreach (float edge in _edges) writer.Write(edge);
    }

    public static AmountBuckets ReadFrom(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1024) throw new InvalidDataException($"{count} amount bucket edges is not plausible");
        var edges = new float[count];
        for (int i = 0; i < count; i++) edges[i] = reader.ReadSingle();
        for (int i = 1; i < count; i++)
            if (!(edges[i] > edges[i - 1])) throw new InvalidDataException("amount bucket edges are not increasing");
        return new AmountBuckets(edges);
    }
}
