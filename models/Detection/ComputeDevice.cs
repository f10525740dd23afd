using TorchSharp;

namespace StreamDetect.Models.Detection;

/// <summary>Resolves a device setting: <c>cpu</c>, <c>cuda</c> (or <c>cuda:N</c>), or <c>auto</c> = cuda when available.</summary>
public static class ComputeDevice
{
    public static torch.Device Resolve(string setting)
    {
        string value = (setting ?? "auto").Trim().ToLowerInvariant();
        if (value == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (value == "cpu") return torch.CPU;
        if (value == "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{setting}' was asked for, but CUDA is not available here (torch.cuda.is_available() is false); use cpu or auto");
            return value == "cuda" ? torch.CUDA : new torch.Device(value);
        }
        throw new ArgumentException($"device '{setting}' is not one of cpu, cuda, cuda:N, auto");
    }
}
