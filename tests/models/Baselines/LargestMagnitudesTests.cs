using StreamDetect.Models.Baselines;
using StreamDetect.Models.Features;

namespace StreamDetect.Models.Tests.Baselines;

/// <summary>The z-score's sum of the largest |z| without slots equals the slot-order sum to the bit, or declines.</summary>
public sealed class LargestMagnitudesTests
{
    [Theory]
    [InlineData(10)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(200)]
    public void The_sum_is_the_slot_order_sum_to_the_bit_whenever_it_is_given(int top)
    {
        var random = new Random(17);
        int given = 0, rows = 20_000;
        for (int r = 0; r < rows; r++)
        {
            var row = Row(random, FeatureSchema.Count);
            double expected = LargestMagnitudes.SlotSum(row, top);
            if (!LargestMagnitudes.TrySum(row, top, out double sum)) continue;
            given++;
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(sum),
                $"row {r}: slot order {expected:R}, without slots {sum:R} ([{string.Join(", ", row.Select(v => v.ToString("R")))}])");
        }
        // The fast path is the common one.
        Assert.True(given > rows * 2 / 3, $"{given} of {rows} rows");
    }

    [Fact]
    public void A_row_whose_sum_depends_on_the_order_is_declined()
    {
        // 50 and values 2^-44 times smaller: added one by one to 50 each is rounded, added together first they are not.
        var row = new float[FeatureSchema.Count];
        row[0] = 1.2345679e-12f;
        row[1] = 3.3333333e-12f;
        row[2] = -2.7182818e-12f;
        row[50] = 50f;
        var sorted = row.Select(Math.Abs).OrderBy(v => v).Select(v => (double)v).ToArray();
        double ascending = 0;
        foreach (double v in sorted.TakeLast(10)) ascending += v;
        double descending = 0;
        foreach (double v in sorted.TakeLast(10).Reverse()) descending += v;
        Assert.NotEqual(ascending, descending); // the order matters for this row
        Assert.False(LargestMagnitudes.TrySum(row, 10, out _));
    }

    [Fact]
    public void Rows_of_zeros_and_rows_with_fewer_non_zero_values_than_slots_sum_like_the_slots()
    {
        var zeros = new float[FeatureSchema.Count];
        Assert.True(LargestMagnitudes.TrySum(zeros, 10, out double none));
        Assert.Equal(0.0, none);
        var few = new float[FeatureSchema.Count];
        few[7] = -3.25f;
        few[99] = 1.5f;
        few[100] = 0.125f;
        Assert.True(LargestMagnitudes.TrySum(few, 10, out double sum));
        Assert.Equal(LargestMagnitudes.SlotSum(few, 10), sum);
    }

    /// <summary>Rows like scaled features (many exact zeros, values clipped at ±50, ties) and some with a wide range.</summary>
    private static float[] Row(Random random, int length)
    {
        var row = new float[length];
        int kind = random.Next(6);
        for (int j = 0; j < length; j++)
        {
            double u = random.NextDouble();
            row[j] = kind switch
            {
                0 => u < 0.5 ? 0 : (float)(random.NextDouble() * 6 - 3),
                1 => u < 0.1 ? (random.Next(2) == 0 ? 50f : -50f) : u < 0.6 ? 0 : (float)(random.NextDouble() * 2 - 1),
                2 => u < 0.9 ? 0 : (float)Math.Round(random.NextDouble() * 8, 1),
                3 => (float)(Math.Pow(10, random.NextDouble() * 14 - 12) * (random.Next(2) == 0 ? 1 : -1)),
                4 => u < 0.03 ? (float)(1 + random.NextDouble() * 49) : (float)Math.Pow(10, random.NextDouble() * 3 - 10), // sums that depend on the order
                _ => u < 0.97 ? 0 : (float)(random.NextDouble() * 50),
            };
        }
        return row;
    }
}
