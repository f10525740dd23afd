using StreamDetect.Models.Detection;
using StreamDetect.Models.Tests.Support;
using TorchSharp;

namespace StreamDetect.Models.Tests.Detection;

/// <summary>On a machine with CUDA, a model loaded onto the GPU scores as on the CPU.</summary>
public sealed class CudaTests(TrainedDetectors trained)
{
    [Theory]
    [InlineData("lstm")]
    [InlineData("transformer")]
    [InlineData("ensemble")]
    public void A_model_loaded_on_cuda_scores_like_on_cpu(string model)
    {
        if (!torch.cuda.is_available()) Assert.Skip("CUDA is not available here (torch.cuda.is_available() is false)");
        string path = Path.Combine(Path.GetTempPath(), $"sd-cuda-{model}-{Guid.NewGuid():N}.sdm");
        try
        {
            trained.Get(model).Save(path);
            using var gpu = DetectorFile.Load(path, "cuda");
            var inputs = trained.Data.Users.Take(300).Select(u => u.Replay(32).Last().ToScoringInput(null)).ToArray();
            var expected = trained.Get(model).ScoreBatch(inputs);
            var actual = gpu.ScoreBatch(inputs);
            for (int i = 0; i < inputs.Length; i++) Assert.Equal(expected[i].Score, actual[i].Score, 3);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Auto_picks_cuda_only_when_it_is_available()
    {
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, ComputeDevice.Resolve("auto").type);
        if (!torch.cuda.is_available()) Assert.Throws<ArgumentException>(() => ComputeDevice.Resolve("cuda"));
        Assert.Throws<ArgumentException>(() => ComputeDevice.Resolve("tpu"));
    }
}
