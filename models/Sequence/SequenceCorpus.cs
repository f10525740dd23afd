using StreamDetect.Models.Dataset;
using StreamDetect.Models.Vocabulary;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// Training and validation users as token sequences (the tokenizer learned from the training users
/// only), cut into chunks and assembled into padded batches for the next-event models. A user's entries include the
/// end markers of its sessions (when the dataset was built with a session rule), so the models learn where sessions end.
/// </summary>
public sealed class SequenceCorpus
{
    private SequenceCorpus(EventTokenizer tokenizer, EventToken[][] training, EventToken[][] validation)
    {
        Tokenizer = tokenizer;
        Training = training;
        Validation = validation;
        TrainingEvents = training.Sum(t => (long)t.Length);
    }

    public EventTokenizer Tokenizer { get; }

    /// <summary>Per training user, every event's token (with its true predecessor).</summary>
    public IReadOnlyList<EventToken[]> Training { get; }

    public IReadOnlyList<EventToken[]> Validation { get; }

    public long TrainingEvents { get; }

    /// <param name="reservedTypes">Reserved type slots of the vocabulary, for types assigned by online fine-tuning.</param>
    public static SequenceCorpus Build(BehaviorDataset training, BehaviorDataset validation, int minTypeCount, int amountBuckets, int reservedTypes = 0)
    {
        var tokenizer = EventTokenizer.Learn(training.Users.Select(u => u.Entries), minTypeCount, amountBuckets, reservedTypes);
        return new SequenceCorpus(tokenizer, Tokenize(tokenizer, training), Tokenize(tokenizer, validation));
    }

    /// <summary>Users tokenized with an existing model's tokenizer (online fine-tuning keeps the champion's vocabulary, with the types it assigns to reserved slots).</summary>
    internal static SequenceCorpus WithTokenizer(EventTokenizer tokenizer, BehaviorDataset training, BehaviorDataset validation) =>
        new(tokenizer, Tokenize(tokenizer, training), Tokenize(tokenizer, validation));

    private static EventToken[][] Tokenize(EventTokenizer tokenizer, BehaviorDataset data)
    {
        var result = new EventToken[data.Users.Count][];
        Parallel.For(0, data.Users.Count, u =>
        {
            var entries = data.Users[u].Entries;
            var tokens = new EventToken[entries.Length];
            for (int i = 0; i < entries.Length; i++) tokens[i] = tokenizer.Tokenize(entries, i, startsAtUserStart: true);
            result[u] = tokens;
        });
        return result;
    }

    /// <summary>Cuts every user into chunks of at most <paramref name="length"/> events; chunks after a
    /// user's first overlap the previous one by <paramref name="burnIn"/> events, which only build context.</summary>
    public static List<SequenceChunk> Chunk(IReadOnlyList<EventToken[]> users, int length, int burnIn)
    {
        if (burnIn < 1 || burnIn >= length) throw new ArgumentOutOfRangeException(nameof(burnIn), burnIn, $"must be in 1..{length - 1}");
        var chunks = new List<SequenceChunk>();
        for (int u = 0; u < users.Count; u++)
        {
            int n = users[u].Length;
            chunks.Add(new SequenceChunk(u, 0, Math.Min(n, length), 0));
            for (int start = length - burnIn; start + burnIn < n; start += length - burnIn)
                chunks.Add(new SequenceChunk(u, start, Math.Min(length, n - start), burnIn));
        }
        return chunks;
    }

    /// <summary>Shuffles chunks and keeps about <paramref name="maxEvents"/> loss events' worth.</summary>
    public static List<SequenceChunk> Subsample(List<SequenceChunk> chunks, long maxEvents, Random random)
    {
        var shuffled = chunks.ToArray();
        random.Shuffle(shuffled);
        var kept = new List<SequenceChunk>();
        long events = 0;
        foreach (var chunk in shuffled)
        {
            if (events >= maxEvents) break;
            kept.Add(chunk);
            events += chunk.LossEvents;
        }
        return kept;
    }

    /// <summary>Groups chunks into batches of similar length (less padding), in a random batch order.</summary>
    public static List<SequenceChunk[]> Batches(List<SequenceChunk> chunks, int batchSize, Random? random)
    {
        var batches = new List<SequenceChunk[]>();
        const int pool = 32;
        for (int start = 0; start < chunks.Count; start += batchSize * pool)
        {
            var block = chunks.Skip(start).Take(batchSize * pool).OrderBy(c => c.Length).ToArray();
            for (int b = 0; b < block.Length; b += batchSize) batches.Add(block[b..Math.Min(block.Length, b + batchSize)]);
        }
        if (random is not null)
        {
            var array = batches.ToArray();
            random.Shuffle(array);
            return [.. array];
        }
        return batches;
    }

    /// <summary>
    /// Builds a padded batch: inputs [B, T, 4] (field values offset into one embedding table), type
    /// targets and gap targets [B, T] (-100 where no loss is taken).
    /// </summary>
    public (Tensor Inputs, Tensor TypeTargets, Tensor GapTargets) Batch(IReadOnlyList<EventToken[]> users, IReadOnlyList<SequenceChunk> chunks, Device device)
    {
        int b = chunks.Count;
        int t = chunks.Max(c => c.Length);
        var inputs = new long[b * t * EventTokenizer.Fields];
        var types = new long[b * t];
        var gaps = new long[b * t];
        Array.Fill(types, -100L);
        Array.Fill(gaps, -100L);
        var offsets = Tokenizer.FieldOffsets;
        long endToken = Tokenizer.Vocabulary.HasEndToken ? Tokenizer.Vocabulary.EndToken : -1;
        for (int i = 0; i < b; i++)
        {
            var chunk = chunks[i];
            var tokens = users[chunk.User];
            for (int j = 0; j < t; j++)
            {
                int at = (i * t + j) * EventTokenizer.Fields;
                if (j >= chunk.Length)
                {
                    inputs[at + 1] = offsets[1];
                    inputs[at + 2] = offsets[2];
                    inputs[at + 3] = offsets[3];
                    continue;
                }
                var token = tokens[chunk.Start + j];
                if (j == 0 && chunk.Start > 0) token = AsWindowStart(token);
                Tokenizer.WriteOffsetFields(token, inputs.AsSpan(at, EventTokenizer.Fields));
                if (j >= chunk.LossFrom)
                {
                    types[i * t + j] = token.Type;
                    // An end marker's gap (to its session's last event) is always zero: only its type is learned.
                    gaps[i * t + j] = token.Type == endToken ? -100L : token.Gap;
                }
            }
        }
        return (
            torch.tensor(inputs, [b, t, EventTokenizer.Fields], device: device),
            torch.tensor(types, [b, t], device: device),
            torch.tensor(gaps, [b, t], device: device));
    }

    /// <summary>The token of an event whose predecessor is not in view (as the tokenizer makes it for index 0).</summary>
    public static EventToken AsWindowStart(EventToken token) => token with
    {
        Gap = token.Gap == TimeGapBuckets.FirstEvent ? TimeGapBuckets.FirstEvent : TimeGapBuckets.UnknownPrevious,
        Item = token.Item == ItemRelation.NoItem ? ItemRelation.NoItem : ItemRelation.NoPrevious,
    };
}
