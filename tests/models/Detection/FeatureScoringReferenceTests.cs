using StreamDetect.Models.Baselines;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Scaling;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;
using TorchSharp;

namespace StreamDetect.Models.Tests.Detection;

/// <summary>
/// The feature detectors' fast paths give, to the bit, what the plain formulas give: the scaler's vectorized
/// transform, the z-score's selection of the largest |z|, and per-feature contributions computed only for the
/// rows that are explained.
/// </summary>
public sealed class FeatureScoringReferenceTests(TrainedDetectors trained) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sd-feature-reference-").FullName;
    private readonly List<IAnomalyDetector> _loaded = [];

    public static TheoryData<string> FeatureModels => new() { "ae", "gan", "knn", "zscore", "iforest" };

    public void Dispose()
    {
        foreach (var detector in _loaded) detector.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(10f)]
    [InlineData(50f)]
    [InlineData(0f)]
    public void The_scaler_transforms_like_the_scalar_formula_to_the_bit(float clip)
    {
        int f = FeatureSchema.Count;
        var random = new Random(3);
        var center = new float[f];
        var scale = new float[f];
        for (int j = 0; j < f; j++)
        {
            center[j] = j % 7 == 0 ? 0 : (float)(random.NextDouble() * 4 - 2);
            scale[j] = j % 11 == 0 ? float.PositiveInfinity : j % 13 == 0 ? float.Epsilon : (float)(0.05 + random.NextDouble() * 3);
        }
        var scaler = Scaler(center, scale);
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.MaxValue, float.MinValue, float.Epsilon, 1e30f, -1e30f];
        var actual = new float[f];
        for (int row = 0; row < 200; row++)
        {
            var features = new float[f];
            for (int j = 0; j < f; j++)
                features[j] = random.Next(4) == 0 ? special[random.Next(special.Length)] : (float)(random.NextDouble() * 200 - 100);
            scaler.Transform(features, actual, clip);
            for (int j = 0; j < f; j++)
            {
                float z = (features[j] - center[j]) / scale[j];
                float expected = float.IsFinite(z) ? Math.Clamp(z, -clip, clip) : 0;
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[j]),
                    $"row {row}, feature {j}: ({features[j]:R} - {center[j]:R}) / {scale[j]:R} clipped to {clip} is {expected:R}, the scaler wrote {actual[j]:R}");
            }
        }
    }

    [Fact]
    public void The_zscore_raw_score_and_explanation_equal_the_plain_scan_for_the_largest_z_to_the_bit()
    {
        // Explanations list every feature the score averaged (ExplainTop = all), so they show which features were picked.
        var options = TrainedDetectors.Options with
        {
            Models = TrainedDetectors.Options.Models.With(RobustZScoreDetector.Kind, p => p with { ExplainTop = FeatureSchema.Count }),
        };
        using var detector = (FeatureDetector)DetectorTrainer.Train("zscore", trained.Data, options, cancellation: TestContext.Current.CancellationToken);
        detector.ExplainFrom = 0;
        int top = Math.Min(options.Models.For(RobustZScoreDetector.Kind).Top, FeatureSchema.Count);
        // Real users (whole histories, scrapers and card testers among them, whose |z| saturate at the clip: ties)
        // and rows made of a few values (more ties, exact zeros, values beyond the clip).
        var inputs = trained.Data.Users.Take(60).Select(u => u.StartReplay(trained.Data.WindowCapacity).AdvanceAsInput(u.Count)).ToList();
        inputs.Add(TiedRows(detector.Scaler, rows: 300, seed: 5));
        var outputs = detector.ScoreBatch(inputs);
        int f = FeatureSchema.Count, checkedRows = 0;
        var scaled = new float[f];
        for (int i = 0; i < inputs.Count; i++)
        {
            for (int e = 0; e < inputs[i].NewEvents; e++)
            {
                detector.Scaler.Transform(inputs[i].FeaturesAt(e), scaled, detector.Clip);
                var (raw, contributions) = PlainTopMean(scaled, top);
                Assert.Equal(BitConverter.DoubleToInt64Bits(raw), BitConverter.DoubleToInt64Bits(outputs[i].RawScoreAt(e)));
                var expected = FeatureDetector.TopContributions(inputs[i].FeaturesAt(e), contributions, detector.ExplainTop);
                var actual = outputs[i].ExplanationAt(e).Features;
                // The normal ranges the explanation quotes come from the model (tested in ModelFileTests); here: the picks.
                Assert.All(actual, c => Assert.NotNull(c.Normal));
                Assert.Equal(expected, actual.Select(c => c with { Normal = null }));
                checkedRows++;
            }
        }
        Assert.True(checkedRows > 1000, $"{checkedRows} rows");
    }

    [Theory]
    [MemberData(nameof(FeatureModels))]
    public void A_row_explained_from_the_default_threshold_gets_the_explanation_it_gets_when_every_row_is_explained(string model)
    {
        var everything = Explaining(model);
        var some = (AnomalyDetector)trained.Get(model);
        Assert.True(some.ExplainFrom > 0);
        var inputs = trained.Data.Users.Take(80).Select(u => u.StartReplay(trained.Data.WindowCapacity).AdvanceAsInput(u.Count)).ToArray();
        var all = everything.ScoreBatch(inputs);
        var selected = some.ScoreBatch(inputs);
        int explained = 0, plain = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            for (int e = 0; e < inputs[i].NewEvents; e++)
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(all[i].ScoreAt(e)), BitConverter.DoubleToInt64Bits(selected[i].ScoreAt(e)));
                var full = all[i].ExplanationAt(e);
                var actual = selected[i].ExplanationAt(e);
                if (selected[i].ScoreAt(e) >= some.ExplainFrom)
                {
                    Assert.True(selected[i].IsExplained(e));
                    Assert.Equal(full.Features, actual.Features);
                    Assert.Equal(full.RawScore, actual.RawScore);
                    explained++;
                }
                else
                {
                    Assert.False(selected[i].IsExplained(e));
                    Assert.Empty(actual.Features);
                    plain++;
                }
            }
        }
        Assert.True(explained > 0 && plain > 0, $"{model}: {explained} explained, {plain} plain rows");
    }

    /// <summary>The plain formula: the first features fill the slots, then each feature whose |z| beats the smallest
    /// slot's replaces it (scanning all slots every time); the score is the mean of the slots in slot order.</summary>
    private static (double Raw, float[] Contributions) PlainTopMean(float[] row, int top)
    {
        var best = new int[top];
        var contributions = new float[row.Length];
        int filled = 0;
        for (int j = 0; j < row.Length; j++)
        {
            float z = Math.Abs(row[j]);
            if (filled < top)
            {
                best[filled++] = j;
                continue;
            }
            int min = 0;
            for (int q = 1; q < top; q++) if (Math.Abs(row[best[q]]) < Math.Abs(row[best[min]])) min = q;
            if (z > Math.Abs(row[best[min]])) best[min] = j;
        }
        double sum = 0;
        for (int q = 0; q < filled; q++)
        {
            float z = Math.Abs(row[best[q]]);
            sum += z;
            contributions[best[q]] = z;
        }
        return (sum / filled, contributions);
    }

    /// <summary>One input of <paramref name="rows"/> new events whose features, once scaled, take a few values
    /// (ties, zeros, both signs, beyond the clip).</summary>
    private static ScoringInput TiedRows(FeatureScaler scaler, int rows, int seed)
    {
        var random = new Random(seed);
        int f = FeatureSchema.Count;
        // Tiny levels (on features centred at 0) make sums whose double result depends on the order of the terms.
        float[] levels = [0f, 0.5f, -0.5f, 1f, 3f, -3f, 7f, 37.77f, 1e6f, -1e6f, 1.2345679e-9f, -7.654321e-10f];
        var features = new float[rows * f];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < f; j++)
                features[r * f + j] = scaler.Center[j] + levels[random.Next(levels.Length)] * (float.IsFinite(scaler.Scale[j]) ? scaler.Scale[j] : 1);
        var window = Enumerable.Range(0, rows).Select(r => new WindowEntry("view", 1_700_000_000_000L + r * 1000L, 0, 0, 0)).ToArray();
        return new ScoringInput("tied", window, rows, features, null, rows);
    }

    private static FeatureScaler Scaler(float[] center, float[] scale)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(center.Length);
            foreach (float v in center) writer.Write(v);
            foreach (float v in scale) writer.Write(v);
        }
        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        return FeatureScaler.ReadFrom(reader);
    }

    /// <summary>A copy of the trained detector that explains every event.</summary>
    private IAnomalyDetector Explaining(string model)
    {
        string path = Path.Combine(_directory, model + ".sdm");
        trained.Get(model).Save(path);
        var detector = DetectorFile.Load(path, torch.CPU);
        _loaded.Add(detector);
        ((AnomalyDetector)detector).ExplainFrom = 0;
        return detector;
    }
}
