namespace StreamDetect.Models.Tensors;

/// <summary>
/// How many rows a network's forward pass is given for a batch of n: n rounded up to a multiple of
/// <see cref="Multiple"/> (at least one multiple), the extra rows being padding whose results are dropped.
/// <para>
/// Why: the CPU matrix kernels add up a row's products in an order that depends on how many rows the call
/// has. Measured on this machine's libtorch (MKL): the autoencoder's scores for 1 to 3 rows differ in their
/// last bits from the same rows among 64; the GRU's for a single row; the GAN critic's (a product with one
/// output column) for 1, 3, 7, 15, 33 or 63 rows, while every multiple of 8 from 8 to 4096 gives the bits
/// 64 rows give. The engine's scorer batches whatever requests are waiting, so without this a score, and
/// once in a while an alert, would depend on timing. (Pinned by BatchCompositionTests, exactly.) On cuda
/// the kernels cuBLAS picks also depend on the shape; that is not measured yet.
/// </para>
/// </summary>
public static class BatchRows
{
    public const int Multiple = 8;

    /// <summary>The rows a forward pass for <paramref name="rows"/> rows runs with.</summary>
    public static int Padded(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        return Math.Max(Multiple, checked(rows + Multiple - 1) / Multiple * Multiple);
    }
}
