using System.Runtime.CompilerServices;

namespace StreamDetect.Models.Tests.Support;

internal static class TorchThreads
{
    /// <summary>
    /// One intra-op thread per process: xunit runs test classes in parallel on a 2-core machine, and
    /// torch's spinning thread pool degrades badly when oversubscribed.
    /// </summary>
    [ModuleInitializer]
    internal static void UseOneThread() => TorchSharp.torch.set_num_threads(1);
}
