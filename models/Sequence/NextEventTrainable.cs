using StreamDetect.Models.Vocabulary;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// What training a next-event network needs from its detector: the module, its full-sequence prediction, the
/// tokenizer, the gap weight of the loss and the chunking (length and burn-in) its training used.
/// </summary>
internal sealed record NextEventTrainable(
    nn.Module Module, Func<Tensor, (Tensor TypeLogits, Tensor GapLogits)> Predict, EventTokenizer Tokenizer,
    double GapWeight, int ChunkLength, int BurnIn)
{
    /// <summary>The parameters whose first dimension is indexed by the type token, by name in <c>named_parameters()</c>:
    /// the shared field embedding table (the type field's rows come first, at offset 0) and the type head's weight and
    /// bias. Both next-event networks name them so.</summary>
    public static IReadOnlyList<string> TypeTokenParameters { get; } = ["embedding.weight", "typeHead.weight", "typeHead.bias"];
}
