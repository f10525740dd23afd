using StreamDetect.Models.Detection;
using StreamDetect.Models.Features;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Persistence;

/// <summary>Model files round-trip exactly and refuse corrupt or incompatible content with a clear error.</summary>
public sealed class ModelFileTests(TrainedDetectors trained) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sd-models-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string> Models => new() { "lstm", "gru", "transformer", "ae", "gan", "knn", "zscore", "iforest", "ensemble" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Save_then_load_then_score_gives_identical_scores_states_and_version(string model)
    {
        var detector = trained.Get(model);
        string path = Path.Combine(_directory, model + ".sdm");
        detector.Save(path);
        using var loaded = DetectorFile.Load(path, torch.CPU);

        Assert.Equal(detector.Name, loaded.Name);
        Assert.Equal(detector.Version, loaded.Version);
        Assert.Equal(detector.Threshold.For(0.005, 4), loaded.Threshold.For(0.005, 4));
        var inputs = trained.Data.Users.Take(64).Select(u =>
        {
            var replay = u.StartReplay(32);
            int take = Math.Min(2, u.Count);
            while (replay.Position < u.Count - take) replay.Advance();
            return replay.AdvanceAsInput(take);
        }).ToArray();
        var before = detector.ScoreBatch(inputs);
        var after = loaded.ScoreBatch(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(before[i].Count, after[i].Count);
            for (int e = 0; e < before[i].Count; e++) Assert.Equal(before[i].ScoreAt(e), after[i].ScoreAt(e));
            Assert.Equal(before[i].NewState?.Values, after[i].NewState?.Values);
            Assert.Equal(before[i].NewState?.ModelKey, after[i].NewState?.ModelKey);
        }
    }

    [Fact]
    public void A_truncated_file_is_refused_naming_the_file_and_the_problem()
    {
        string path = Saved("zscore");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<ModelFileException>(() => DetectorFile.Load(path, torch.CPU));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_file_with_the_wrong_magic_is_refused()
    {
        string path = Path.Combine(_directory, "not-a-model.sdm");
        File.WriteAllText(path, "{\"this\": \"is json\"}");
        var error = Assert.Throws<ModelFileException>(() => DetectorFile.Load(path, torch.CPU));
        Assert.Contains(path, error.Message);
        Assert.Contains("not a StreamDetect model file", error.Message);
    }

    [Fact]
    public void A_file_of_another_format_version_is_refused()
    {
        string path = Saved("zscore");
        var bytes = File.ReadAllBytes(path);
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 2), (ushort)(ModelFileFormat.Version + 1));
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFileException>(() => DetectorFile.Load(path, torch.CPU));
        Assert.Contains($"format version {ModelFileFormat.Version + 1}", error.Message);
    }

    [Fact]
    public void A_flipped_byte_is_caught_by_the_checksum()
    {
        string path = Saved("lstm");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFileException>(() => DetectorFile.Load(path, torch.CPU));
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void A_model_of_another_feature_schema_or_an_unknown_detector_is_refused()
    {
        var schema = new ModelFileWriter("zscore", FeatureSchema.Version + 1);
        string schemaPath = Path.Combine(_directory, "schema.sdm");
        schema.Save(schemaPath);
        Assert.Contains("feature schema version", Assert.Throws<ModelFileException>(() => DetectorFile.Load(schemaPath, torch.CPU)).Message);

        var unknown = new ModelFileWriter("quantum-forest", FeatureSchema.Version);
        string unknownPath = Path.Combine(_directory, "unknown.sdm");
        unknown.Save(unknownPath);
        Assert.Contains("'quantum-forest'", Assert.Throws<ModelFileException>(() => DetectorFile.Load(unknownPath, torch.CPU)).Message);
    }

    [Fact]
    public void Weights_that_do_not_fit_the_hyper_parameters_are_refused()
    {
        var reader = ModelFileReader.Open(Saved("ae"));
        var writer = new ModelFileWriter("ae", FeatureSchema.Version);
        foreach (string section in reader.SectionNames)
        {
            byte[] bytes = reader.Section(section);
            if (section == "hyperparameters") bytes = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes).Replace("\"hidden\":64", "\"hidden\":32"));
            writer.Add(section, bytes);
        }
        string path = Path.Combine(_directory, "mismatch.sdm");
        writer.Save(path);
        var error = Assert.Throws<ModelFileException>(() => DetectorFile.Load(path, torch.CPU));
        Assert.Contains("weights", error.Message);
    }

    [Fact]
    public void A_missing_file_is_refused_with_its_path()
    {
        string path = Path.Combine(_directory, "missing.sdm");
        Assert.Contains("does not exist", Assert.Throws<ModelFileException>(() => DetectorFile.Load(path, torch.CPU)).Message);
    }

    [Theory]
    [InlineData("zscore")]
    [InlineData("ae")]
    public void A_feature_model_keeps_the_normal_quantiles_alerts_quote_and_a_file_saved_before_them_still_loads(string model)
    {
        string path = Saved(model);
        var reader = ModelFileReader.Open(path);
        Assert.True(reader.Has("normal-quantiles"));
        using var loaded = (FeatureDetector)DetectorFile.Load(path, torch.CPU);
        var original = (FeatureDetector)trained.Get(model);
        var normal = Assert.IsType<Scaling.NormalQuantiles>(loaded.Scaler.Normal);
        int pending = FeatureSchema.IndexOf("count_pay_fail_1m"), gap = FeatureSchema.IndexOf("last_gap_s");
        for (int f = 0; f < FeatureSchema.Count; f++)
        {
            for (int level = 0; level < Scaling.NormalQuantiles.Levels.Count; level++) Assert.Equal(original.Scaler.Normal!.At(level, f), normal.At(level, f));
            Assert.True(normal.At(0, f) <= normal.At(1, f) && normal.At(1, f) <= normal.At(2, f), FeatureSchema.Names[f]);
        }
        // The planted card testers (5+ failed payments in a burst) are not among the training users.
        Assert.InRange(normal.At(2, pending), 0f, MathF.Log(1 + 3f) - 0.01f);
        Assert.True(normal.At(2, gap) > normal.At(0, gap));

        // The same model saved before the section existed: it loads, scores the same, and quotes its scaler's median.
        var writer = new ModelFileWriter(model, FeatureSchema.Version);
        foreach (string section in reader.SectionNames.Where(s => s != "normal-quantiles")) writer.Add(section, reader.Section(section));
        string oldPath = Path.Combine(_directory, model + "-old.sdm");
        writer.Save(oldPath);
        using var old = (FeatureDetector)DetectorFile.Load(oldPath, torch.CPU);
        Assert.Null(old.Scaler.Normal);
        var row = new float[FeatureSchema.Count];
        var contributions = new float[FeatureSchema.Count];
        contributions[gap] = 1;
        var quoted = Assert.Single(FeatureDetector.TopContributions(row, contributions, 3, old.Scaler)).Normal!;
        Assert.Equal((old.Scaler.Center[gap], (double?)null, (double?)null), (quoted.Median, quoted.P99, quoted.P999));
        var current = Assert.Single(FeatureDetector.TopContributions(row, contributions, 3, loaded.Scaler)).Normal!;
        Assert.Equal(normal.At(2, gap), current.P999);
        var inputs = trained.Data.Users.Take(16).Select(u => u.StartReplay(32).AdvanceAsInput(Math.Min(3, u.Count))).ToArray();
        var a = loaded.ScoreBatch(inputs);
        var b = old.ScoreBatch(inputs);
        for (int i = 0; i < inputs.Length; i++) Assert.Equal(a[i].ScoreAt(0), b[i].ScoreAt(0));
    }

    private string Saved(string model)
    {
        string path = Path.Combine(_directory, $"{model}-{Guid.NewGuid():N}.sdm");
        trained.Get(model).Save(path);
        return path;
    }
}
