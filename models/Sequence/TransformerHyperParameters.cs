namespace StreamDetect.Models.Sequence;

/// <summary>Hyper-parameters of the causal Transformer next-event detector (HOCON <c>streamdetect.models.transformer</c>).</summary>
public sealed record TransformerHyperParameters
{
    /// <summary>Embedding width of each token field; the model width is four times this.</summary>
    public int FieldEmbedding { get; init; } = 16;

    public int Heads { get; init; } = 4;

    public int Layers { get; init; } = 2;

    public int FeedForward { get; init; } = 128;

    /// <summary>Block length of incremental scoring (see <see cref="TransformerKeyValueCache"/>); also the training chunk
    /// length and the number of surprises kept per user.</summary>
    public int MaxPositions { get; init; } = 32;

    /// <summary>An event whose type is outside the model's top-k predictions is flagged in explanations, and in
    /// <see cref="NextEventDecisionMode.TopK"/> mode it is what alerts.</summary>
    public int TopK { get; init; } = 3;

    /// <summary>How the model decides: calibrated surprise at the wanted alert rate, or DeepLog's top-k rule (see <see cref="NextEventDecision"/>).</summary>
    public NextEventDecisionMode Decision { get; init; } = NextEventDecisionMode.Surprise;

    /// <summary>The score is the mean of this many largest surprises in the window (1: the largest, as for the LSTM/GRU).</summary>
    public int AggregateTop { get; init; } = 1;

    /// <summary>Only surprises of events at most this many hours older than the newest count in the score (0 = the whole window).</summary>
    public double SurpriseHorizonHours { get; init; } = 6;

    /// <summary>Weight of the time-gap surprise (0 = type only, as for the LSTM/GRU).</summary>
    public double GapWeight { get; init; } = 0;

    public double UnknownSurprise { get; init; } = 15;

    /// <summary>In a state rebuilt from a window whose blocks started before it, events judged with fewer than this many
    /// events of context are left out of the score (new events are always judged); never fewer than <see cref="BurnIn"/>
    /// (<see cref="RebuildSkip"/>).</summary>
    public int WarmupSkip { get; init; } = 8;

    /// <summary>The context an event judged in a cut block needs to count: <see cref="WarmupSkip"/>, at least <see cref="BurnIn"/>.
    /// Training never takes the loss of a prediction made with fewer than burn-in events of a chunk's context, so such
    /// predictions are untrained guesses (the defect fixed for the recurrent models' rebuilt states).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int RebuildSkip => Math.Max(WarmupSkip, BurnIn);

    public int Epochs { get; init; } = 6;

    public double LearningRate { get; init; } = 0.002;

    public int BatchSize { get; init; } = 64;

    /// <summary>Context-only events at the start of every training chunk after a user's first.</summary>
    public int BurnIn { get; init; } = 8;

    public long MaxTrainEvents { get; init; } = 300_000;

    public long MaxValidationEvents { get; init; } = 50_000;

    public int Patience { get; init; } = 2;

    public int MinTypeCount { get; init; } = 1;

    public int AmountBuckets { get; init; } = 8;

    /// <summary>Reserved type slots in the embedding and output layers, for event types that appear after training:
    /// online fine-tuning assigns such a type to a free slot once enough users show it (until then it is &lt;unk&gt;).
    /// A model file omits 0, so the file of a model without slots (every file older than them) is the same bytes, and
    /// its version the same id, as before; loading sets it from the vocabulary, which is what the layers are sized by.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int ReservedTypes { get; init; } = 8;

    public int ExplainTop { get; init; } = 3;

    public void Validate(string prefix)
    {
        Check(FieldEmbedding >= 1 && 4 * FieldEmbedding % Heads == 0, "heads", "a divisor of 4 * field-embedding");
        Check(Layers >= 1, "layers", ">= 1");
        Check(FeedForward >= 1, "feed-forward", ">= 1");
        Check(MaxPositions >= 2, "max-positions", ">= 2");
        Check(BurnIn >= 1 && BurnIn < MaxPositions, "burn-in", "in 1..max-positions-1");
        Check(AggregateTop >= 1, "aggregate-top", ">= 1");
        Check(ReservedTypes is >= 0 and <= Vocabulary.EventVocabulary.MaxReservedSlots, "reserved-types", $"in 0..{Vocabulary.EventVocabulary.MaxReservedSlots}");
        Check(Epochs >= 1 && LearningRate > 0 && BatchSize >= 1, "epochs", ">= 1 (and learning-rate > 0, batch-size >= 1)");
        void Check(bool ok, string key, string rule)
        {
            if (!ok) throw new ArgumentException($"{prefix}.{key} must be {rule}");
        }
    }
}
