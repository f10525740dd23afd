namespace StreamDetect.Models.Sequence;

/// <summary>Hyper-parameters of the LSTM/GRU next-event detector (HOCON <c>streamdetect.models.lstm</c> / <c>.gru</c>).</summary>
public sealed record RecurrentHyperParameters
{
    public RecurrentCell Cell { get; init; } = RecurrentCell.Lstm;

    /// <summary>Embedding width of each of the four token fields (the cell's input is four times this).</summary>
    public int FieldEmbedding { get; init; } = 16;

    public int Hidden { get; init; } = 64;

    public int Layers { get; init; } = 1;

    /// <summary>An event whose type is outside the model's top-k predictions is flagged in explanations, and in
    /// <see cref="NextEventDecisionMode.TopK"/> mode it is what alerts.</summary>
    public int TopK { get; init; } = 3;

    /// <summary>How the model decides: calibrated surprise at the wanted alert rate, or DeepLog's top-k rule (see <see cref="NextEventDecision"/>).</summary>
    public NextEventDecisionMode Decision { get; init; } = NextEventDecisionMode.Surprise;

    /// <summary>The user's score is the mean of this many largest surprises among the last <see cref="SurpriseWindow"/> events
    /// (1: the largest; a single impossible step, e.g. a coupon straight after login, is the whole signal of some abuse).</summary>
    public int AggregateTop { get; init; } = 1;

    /// <summary>Only surprises of events at most this many hours older than the user's newest event count in the
    /// score (0 = all kept ones): an alert is about what the user does now, and a score falls back to normal
    /// once an episode is over instead of holding for the next 32 events, however many days they take.</summary>
    public double SurpriseHorizonHours { get; init; } = 6;

    /// <summary>How many recent surprises the per-user state keeps.</summary>
    public int SurpriseWindow { get; init; } = 32;

    /// <summary>Weight of the time-gap surprise added to the type surprise (0 = type only; gaps still shape the
    /// type prediction as inputs). Measured on the generator: a gap term mostly added noise to normal users'
    /// highest surprises, while the timing anomalies it would catch are caught by the feature models.</summary>
    public double GapWeight { get; init; } = 0;

    /// <summary>Least surprise (nats) of a type never seen in training (&lt;unk&gt;).</summary>
    public double UnknownSurprise { get; init; } = 15;

    /// <summary>When a state is rebuilt from a window that does not start at the user's first event, the surprises
    /// of this many oldest entries (which lack context) are left out of the score; never fewer than <see cref="BurnIn"/>
    /// (<see cref="RebuildSkip"/>): training never takes the loss of a prediction made with less context after a zero state.</summary>
    public int WarmupSkip { get; init; } = 16;

    /// <summary>The oldest entries of a rebuilt window left out of the score: <see cref="WarmupSkip"/>, at least <see cref="BurnIn"/>.
    /// With fewer, the surprises of old entries predicted from a few events of context (which the model never learned to do)
    /// entered the first score after every rebuild: at the start of an evaluation, normal users scored up to 8 nats
    /// (calibrated 8 of "1 in 10^8") and outranked attackers.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int RebuildSkip => Math.Max(WarmupSkip, BurnIn);

    public int Epochs { get; init; } = 6;

    public double LearningRate { get; init; } = 0.003;

    /// <summary>Chunks per training batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Longest training chunk, in events.</summary>
    public int ChunkLength { get; init; } = 64;

    /// <summary>Context-only events at the start of every chunk after a user's first.</summary>
    public int BurnIn { get; init; } = 16;

    /// <summary>Training events per epoch (chunks are sampled anew each epoch): bounds training time.</summary>
    public long MaxTrainEvents { get; init; } = 400_000;

    /// <summary>Validation events used for the validation loss.</summary>
    public long MaxValidationEvents { get; init; } = 100_000;

    /// <summary>Epochs without validation improvement before stopping.</summary>
    public int Patience { get; init; } = 2;

    /// <summary>Types seen fewer times in training are &lt;unk&gt;.</summary>
    public int MinTypeCount { get; init; } = 1;

    /// <summary>Amount buckets learned from training amounts.</summary>
    public int AmountBuckets { get; init; } = 8;

    /// <summary>Reserved type slots in the embedding and output layers, for event types that appear after training:
    /// online fine-tuning assigns such a type to a free slot once enough users show it (until then it is &lt;unk&gt;).
    /// A model file omits 0, so the file of a model without slots (every file older than them) is the same bytes, and
    /// its version the same id, as before; loading sets it from the vocabulary, which is what the layers are sized by.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int ReservedTypes { get; init; } = 8;

    /// <summary>Unexpected events listed in an explanation.</summary>
    public int ExplainTop { get; init; } = 3;

    public void Validate(string prefix)
    {
        Check(FieldEmbedding >= 1, "field-embedding", ">= 1");
        Check(Hidden >= 1, "hidden", ">= 1");
        Check(Layers is >= 1 and <= 8, "layers", "in 1..8");
        Check(TopK >= 1, "top-k", ">= 1");
        Check(AggregateTop >= 1 && AggregateTop <= SurpriseWindow, "aggregate-top", "in 1..surprise-window");
        Check(SurpriseWindow >= 1, "surprise-window", ">= 1");
        Check(GapWeight >= 0, "gap-weight", ">= 0");
        Check(Epochs >= 1, "epochs", ">= 1");
        Check(LearningRate > 0, "learning-rate", "> 0");
        Check(BatchSize >= 1, "batch-size", ">= 1");
        Check(ChunkLength >= 2 && BurnIn >= 1 && BurnIn < ChunkLength, "burn-in", "in 1..chunk-length-1");
        Check(MaxTrainEvents >= 1 && MaxValidationEvents >= 1, "max-train-events", ">= 1");
        Check(AmountBuckets >= 2, "amount-buckets", ">= 2");
        Check(ReservedTypes is >= 0 and <= Vocabulary.EventVocabulary.MaxReservedSlots, "reserved-types", $"in 0..{Vocabulary.EventVocabulary.MaxReservedSlots}");
        void Check(bool ok, string key, string rule)
        {
            if (!ok) throw new ArgumentException($"{prefix}.{key} must be {rule}");
        }
    }
}
