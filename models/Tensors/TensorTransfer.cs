using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace StreamDetect.Models.Tensors;

/// <summary>
/// Copies between host arrays and tensors with one block copy. (TorchSharp's <c>data&lt;T&gt;()</c>
/// accessor copies element by element: ~10 ns per value, which dominated small scoring batches.)
/// Tensors made here belong to the current dispose scope like any other.
/// </summary>
public static class TensorTransfer
{
    public static Tensor ToTensor(ReadOnlySpan<float> values, ReadOnlySpan<long> shape, Device device) =>
        ToTensor(values, shape, ScalarType.Float32, device);

    public static Tensor ToTensor(ReadOnlySpan<long> values, ReadOnlySpan<long> shape, Device device) =>
        ToTensor(values, shape, ScalarType.Int64, device);

    private static Tensor ToTensor<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape, ScalarType type, Device device) where T : unmanaged
    {
        long count = 1;
        foreach (long d in shape) count *= d;
        if (count != values.Length) throw new ArgumentException($"{values.Length} values do not fill a tensor of {count}");
        var host = torch.empty(shape.ToArray(), type, torch.CPU);
        if (count > 0) values.CopyTo(MemoryMarshal.Cast<byte, T>(host.bytes));
        return device.type == DeviceType.CPU ? host : host.to(device);
    }

    /// <summary>Copies a tensor's values (any device, any layout) into <paramref name="destination"/>, row-major.</summary>
    public static void CopyTo(Tensor tensor, Span<float> destination) => CopyTo<float>(tensor, destination);

    public static void CopyTo(Tensor tensor, Span<long> destination) => CopyTo<long>(tensor, destination);

    private static void CopyTo<T>(Tensor tensor, Span<T> destination) where T : unmanaged
    {
        using var scope = torch.NewDisposeScope();
        var host = tensor.device_type == DeviceType.CPU ? tensor : tensor.cpu();
        if (!host.is_contiguous()) host = host.contiguous();
        var values = MemoryMarshal.Cast<byte, T>(host.bytes);
        if (values.Length > destination.Length) throw new ArgumentException($"{values.Length} values do not fit {destination.Length}");
        values.CopyTo(destination);
    }

    public static float[] ToFloatArray(Tensor tensor)
    {
        var result = new float[tensor.numel()];
        CopyTo(tensor, result);
        return result;
    }

    public static long[] ToLongArray(Tensor tensor)
    {
        var result = new long[tensor.numel()];
        CopyTo(tensor, result);
        return result;
    }
}
