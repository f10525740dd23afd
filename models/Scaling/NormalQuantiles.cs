using StreamDetect.Models.Features;

namespace StreamDetect.Models.Scaling;

/// <summary>
/// Quantiles of each feature over the events a feature model was fitted on (the training users' feature
/// vectors, users with an anomalous label left out unless training included them), in the feature
/// vector's own scale. Alerts quote them as "normal users' events: at most X in 99.9%". Saved in the
/// model file's optional <c>normal-quantiles</c> section; model files from before it have none.
/// </summary>
public sealed class NormalQuantiles
{
    /// <summary>The levels kept, in this order: the median, 99% and 99.9%.</summary>
    public static IReadOnlyList<double> Levels { get; } = [0.5, 0.99, 0.999];

    private const byte Layout = 1;
    private readonly float[] _values; // [level * Count + feature]

    internal NormalQuantiles(float[] values)
    {
        if (values.Length != Levels.Count * FeatureSchema.Count)
            throw new ArgumentException($"{values.Length} quantile values, expected {Levels.Count * FeatureSchema.Count}", nameof(values));
        _values = values;
    }

    /// <summary>The value of feature <paramref name="feature"/> at level index <paramref name="level"/> (see <see cref="Levels"/>).</summary>
    public float At(int level, int feature) => _values[level * FeatureSchema.Count + feature];

    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Layout);
        writer.Write((byte)Levels.Count);
        foreach (double level in Levels) writer.Write(level);
        writer.Write(FeatureSchema.Count);
        foreach (float v in _values) writer.Write(v);
    }

    public static NormalQuantiles ReadFrom(BinaryReader reader)
    {
        byte layout = reader.ReadByte();
        if (layout != Layout) throw new InvalidDataException($"normal-quantiles layout {layout} is not supported (this build reads {Layout})");
        int levels = reader.ReadByte();
        if (levels != Levels.Count) throw new InvalidDataException($"normal-quantiles has {levels} levels, this build expects {Levels.Count}");
        for (int l = 0; l < levels; l++)
        {
            double level = reader.ReadDouble();
            if (level != Levels[l]) throw new InvalidDataException($"normal-quantiles level {l} is {level}, this build expects {Levels[l]}");
        }
        int count = reader.ReadInt32();
        if (count != FeatureSchema.Count) throw new InvalidDataException($"normal-quantiles has {count} features, the feature schema has {FeatureSchema.Count}");
        var values = new float[levels * count];
        for (int i = 0; i < values.Length; i++) values[i] = reader.ReadSingle();
        return new NormalQuantiles(values);
    }
}
