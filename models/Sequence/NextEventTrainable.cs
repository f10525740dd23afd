using StreamDetect.Models.Vocabulary;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// What training a next-event network needs from its detector: the module, its full-sequence prediction, the
/// tokenizer, the gap weight of the loss and the chunking (length and burn-in) its training used.
/// </summary>
internal sealed record NextEventTrainable(
    nn.Module Module, Func<Tensor, (Tensor TypeLogits, Tensor GapLogits)> Predict, EventTokenizer Tokenizer,
    double GapWeight, int ChunkLength, int BurnIn);
