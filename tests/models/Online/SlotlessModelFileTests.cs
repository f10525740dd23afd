using System.Text;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;
using StreamDetect.Models.Online;
using StreamDetect.Models.Persistence;
using StreamDetect.Models.Sequence;
using StreamDetect.Models.Sessions;
using StreamDetect.Models.Tests.Support;
using StreamDetect.Models.Training;
using StreamDetect.Models.Vocabulary;

namespace StreamDetect.Models.Tests.Online;

/// <summary>
/// A model without reserved type slots (reserved-types = 0, and every model file written before the slots existed)
/// is written in the format files had before them, loads and scores as before, and a new type stays &lt;unk&gt; in its
/// fine-tuning (counted as slots full).
/// </summary>
[Collection(OnlineModelsCollection.Name)]
public sealed class SlotlessModelFileTests(OnlineModels models, ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_model_without_slots_is_written_as_before_loads_with_the_same_version_and_scores_and_cannot_grow()
    {
        var training = OnlineModels.Training with
        {
            Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.LstmKind,
                p => p with { Hidden = 16, Epochs = 1, MaxTrainEvents = 10_000, ReservedTypes = 0 }),
        };
        var data = DatasetBuilder.Build(SyntheticTraffic.Shoppers(normalUsers: 60, anomalousUsers: 0, days: 2, seed: 41), sessions: SessionSettings.Default);
        using var trained = (RecurrentNextEventDetector)DetectorTrainer.Train("lstm", data, training, cancellation: Ct);
        var bytes = trained.ToFile().ToBytes();
        var file = ModelFileReader.Parse(bytes, "slotless");

        // The hyper-parameters do not name the slots, and the tokenizer section is the format older builds wrote:
        // the learned types, the amount buckets, the session-ending types, nothing after.
        Assert.DoesNotContain("reservedTypes", Encoding.UTF8.GetString(file.Section("hyperparameters")), StringComparison.OrdinalIgnoreCase);
        var tokenizer = trained.Tokenizer;
        Assert.Equal(0, tokenizer.Vocabulary.ReservedSlots);
        using (var expected = new MemoryStream())
        {
            using (var writer = new BinaryWriter(expected, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(tokenizer.Vocabulary.Count - 2);
                foreach (string type in tokenizer.Vocabulary.Types) writer.Write(type);
                tokenizer.Amounts.WriteTo(writer);
                writer.Write(tokenizer.SessionEndsAfter.Count);
                foreach (string type in tokenizer.SessionEndsAfter) writer.Write(type);
            }
            Assert.Equal(expected.ToArray(), file.Section("tokenizer"));
        }

        using var loaded = DetectorFile.Load(file, TorchSharp.torch.CPU, DetectorRegistry.Default);
        Assert.Equal(trained.Version, loaded.Version);
        Assert.Equal(bytes, loaded.ToFile().ToBytes());
        var probe = DatasetBuilder.Build(ReleasedShoppers.Generate(20, days: 2, startDay: 3, seed: 6, prefix: "p", newType: "assistant"), sessions: SessionSettings.Default);
        var user = probe.Users.First(u => u.Entries.Any(e => e.Type == "assistant"));
        Assert.Equal(trained.ScoreSequence(user.Entries).Scores, ((RecurrentNextEventDetector)loaded).ScoreSequence(user.Entries).Scores);

        // The same training with slots: the seed draws the same initial weights and free slots are masked out, so it
        // learns the same model up to float rounding (the type head is wider), and an unseen type is still <unk>.
        var slotted = training with
        {
            Models = ModelHyperParameters.Defaults.With(RecurrentNextEventDetector.LstmKind,
                p => p with { Hidden = 16, Epochs = 1, MaxTrainEvents = 10_000, ReservedTypes = 8 }),
        };
        using (var withSlots = (RecurrentNextEventDetector)DetectorTrainer.Train("lstm", data, slotted, cancellation: Ct))
        {
            Assert.Equal(8, withSlots.Tokenizer.Vocabulary.FreeSlots);
            Assert.Equal(EventVocabulary.UnknownToken, withSlots.Tokenizer.Vocabulary.TokenOf("assistant"));
            var plain = trained.ScoreSequence(user.Entries).Surprises;
            var wide = withSlots.ScoreSequence(user.Entries).Surprises;
            double largest = plain.Zip(wide).Where(p => !float.IsNaN(p.First)).Max(p => Math.Abs(p.First - p.Second));
            output.WriteLine($"largest surprise difference with and without slots: {largest:E2} nats");
            Assert.True(largest < 1e-3, $"surprises differ by {largest} nats with slots");
        }

        // Fine-tuning it on traffic with a new type: no slot, so the type stays <unk> and is reported.
        var samples = OnlineModels.SamplesOf(DatasetBuilder.Build(ReleasedShoppers.Generate(80, days: 2, startDay: 3, seed: 5, prefix: "r", newType: "assistant"), sessions: SessionSettings.Default));
        var options = new OnlineLearningOptions { StepsPerVersion = 3, NewTypeMinCount = 20, NewTypeMinUsers = 10 };
        var result = new SequenceFineTuner(options, training).FineTune(loaded, null, samples, models.Anchors, Ct);
        using var candidate = result.Candidate;
        output.WriteLine(result.DetailJson());
        Assert.Empty(result.Vocabulary.Assigned);
        Assert.Equal(["assistant"], result.Vocabulary.SlotsFull);
        Assert.Equal(0, result.Vocabulary.FreeSlots);
        Assert.Equal(EventVocabulary.UnknownToken, SequenceMember.Trainable(candidate).Tokenizer.Vocabulary.TokenOf("assistant"));

        // A model with slots names them.
        Assert.Contains("\"reservedTypes\":8", Encoding.UTF8.GetString(ModelFileReader.Parse(models.Champion.ToFile().ToBytes(), "champion").Section("hyperparameters")));
    }
}
