namespace StreamDetect.Models.Baselines;

/// <summary>
/// One tree of an isolation forest (Liu, Ting, Zhou 2008), stored as flat arrays: internal nodes split a
/// random feature at a random value between its min and max in the node; leaves remember their size.
/// </summary>
public sealed class IsolationTree
{
    private readonly int[] _feature;   // -1 at leaves
    private readonly float[] _split;   // split value, or leaf size at leaves
    private readonly int[] _left;
    private readonly int[] _right;

    private IsolationTree(int[] feature, float[] split, int[] left, int[] right)
    {
        _feature = feature;
        _split = split;
        _left = left;
        _right = right;
    }

    public int Nodes => _feature.Length;

    /// <summary>Grows a tree on the given rows of a row-major matrix.</summary>
    public static IsolationTree Grow(float[] data, int columns, int[] rows, int maxDepth, Random random)
    {
        var feature = new List<int>();
        var split = new List<float>();
        var left = new List<int>();
        var right = new List<int>();
        Build(rows, 0);
        return new IsolationTree([.. feature], [.. split], [.. left], [.. right]);

        int Build(int[] subset, int depth)
        {
            int node = feature.Count;
            feature.Add(-1);
            split.Add(subset.Length);
            left.Add(-1);
            right.Add(-1);
            if (depth >= maxDepth || subset.Length <= 1) return node;
            // Try a few random features for one that is not constant in this node.
            for (int attempt = 0; attempt < 16; attempt++)
            {
                int j = random.Next(columns);
                float min = float.MaxValue, max = float.MinValue;
                foreach (int r in subset)
                {
                    float v = data[(long)r * columns + j];
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
                if (!(max > min)) continue;
                float value = min + (float)random.NextDouble() * (max - min);
                if (value <= min) value = (min + max) / 2;
                var lower = subset.Where(r => data[(long)r * columns + j] < value).ToArray();
                var upper = subset.Where(r => data[(long)r * columns + j] >= value).ToArray();
                feature[node] = j;
                split[node] = value;
                int l = Build(lower, depth + 1);
                int u = Build(upper, depth + 1);
                left[node] = l;
                right[node] = u;
                return node;
            }
            return node;
        }
    }

    /// <summary>Path length of a row (edges to its leaf plus c(leaf size)).</summary>
    public double PathLength(ReadOnlySpan<float> row)
    {
        int node = 0, depth = 0;
        while (_feature[node] >= 0)
        {
            node = row[_feature[node]] < _split[node] ? _left[node] : _right[node];
            depth++;
        }
        return depth + AveragePathLength((int)_split[node]);
    }

    /// <summary>Path length of a row (edges to its leaf plus c(leaf size)); adds 1/path to each split feature's
    /// entry of <paramref name="usage"/> (features that isolate a row quickly weigh more).</summary>
    public double PathLength(ReadOnlySpan<float> row, Span<float> usage)
    {
        int node = 0, depth = 0;
        Span<int> path = stackalloc int[64];
        while (_feature[node] >= 0)
        {
            if (depth < path.Length) path[depth] = _feature[node];
            node = row[_feature[node]] < _split[node] ? _left[node] : _right[node];
            depth++;
        }
        double length = depth + AveragePathLength((int)_split[node]);
        float weight = (float)(1.0 / Math.Max(1.0, length));
        for (int d = 0; d < Math.Min(depth, path.Length); d++) usage[path[d]] += weight;
        return length;
    }

    /// <summary>c(n): the average path length of an unsuccessful search in a binary search tree of n nodes.</summary>
    public static double AveragePathLength(int n) =>
        n <= 1 ? 0 : n == 2 ? 1 : 2 * (Math.Log(n - 1) + 0.5772156649) - 2.0 * (n - 1) / n;

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_feature.Length);
        for (int i = 0; i < _feature.Length; i++)
        {
            writer.Write(_feature[i]);
            writer.Write(_split[i]);
            writer.Write(_left[i]);
            writer.Write(_right[i]);
        }
    }

    public static IsolationTree ReadFrom(BinaryReader reader, int columns)
    {
        int count = reader.ReadInt32();
        if (count < 1 || count > 1 << 24) throw new InvalidDataException($"isolation tree of {count} nodes is not plausible");
        var feature = new int[count];
        var split = new float[count];
        var left = new int[count];
        var right = new int[count];
        for (int i = 0; i < count; i++)
        {
            feature[i] = reader.ReadInt32();
            split[i] = reader.ReadSingle();
            left[i] = reader.ReadInt32();
            right[i] = reader.ReadInt32();
            if (feature[i] >= columns || (feature[i] >= 0 && ((uint)left[i] >= count || (uint)right[i] >= count || left[i] <= i || right[i] <= i)))
                throw new InvalidDataException($"isolation tree node {i} is not valid");
        }
        return new IsolationTree(feature, split, left, right);
    }
}
