using StreamDetect.Models.Vocabulary;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Sequence;

/// <summary>
/// The reserved type slots in a next-event network's layers (see <see cref="EventVocabulary"/>): the rows of the
/// type-indexed parameters (<see cref="NextEventTrainable.TypeTokenParameters"/>) from the first free slot on are out
/// of the model until a slot is assigned: their logits are masked to -inf (probability 0, no gradient), so a free
/// slot is never predicted, takes no probability from the learned types and leaves training as it was without slots.
/// </summary>
internal static class TypeSlotLayers
{
    /// <summary>Type logits [..., V] with the tokens from <paramref name="activeTypes"/> on set to -inf (as given when all are active).</summary>
    public static Tensor MaskFree(Tensor typeLogits, int activeTypes)
    {
        long types = typeLogits.shape[^1];
        if (activeTypes >= types) return typeLogits;
        using var scope = NewDisposeScope();
        var shape = typeLogits.shape.ToArray();
        shape[^1] = types - activeTypes;
        var masked = torch.cat([typeLogits.narrow(-1, 0, activeTypes), torch.full(shape, NegativeInfinity, dtype: typeLogits.dtype, device: typeLogits.device)], -1);
        return masked.MoveToOuterDisposeScope();
    }

    /// <summary>The mask's fill value, held here for the process's life. TorchSharp 0.107's <c>torch.full</c> happens to keep
    /// an implicit Scalar reachable through its call (its retry path reads it again afterwards), unlike the tensor
    /// operations (TorchSharpScalarLifetimeTests); this runs in every forward pass, so it does not rely on that.</summary>
    private static readonly Scalar NegativeInfinity = float.NegativeInfinity;

    /// <summary>
    /// A network with reserved slots whose weights are those of <paramref name="learned"/> (the same network built
    /// without slots, under the training seed) and zeros in the slots' rows: the seed draws the same initial weights
    /// as for a model without slots, so reserving slots does not change what a training run learns.
    /// <paramref name="learned"/> is disposed.
    /// </summary>
    public static T Widen<T>(T learned, T full, EventVocabulary vocabulary) where T : nn.Module
    {
        int types = vocabulary.FirstSlotToken, reserved = vocabulary.ReservedSlots;
        using (learned)
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var source = learned.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, target) in full.named_parameters())
            {
                var from = source[name];
                if (name == NextEventTrainable.TypeTokenParameters[0])
                {
                    // The shared field table: type rows, then the slots, then the other fields' rows.
                    target.narrow(0, 0, types).copy_(from.narrow(0, 0, types));
                    target.narrow(0, types, reserved).zero_();
                    target.narrow(0, types + reserved, from.shape[0] - types).copy_(from.narrow(0, types, from.shape[0] - types));
                }
                else if (NextEventTrainable.TypeTokenParameters.Contains(name))
                {
                    target.narrow(0, 0, types).copy_(from.narrow(0, 0, types));
                    target.narrow(0, types, reserved).zero_();
                }
                else target.copy_(from);
            }
        }
        return full;
    }
}
