using StreamDetect.Models.Tests.Support;

[assembly: AssemblyFixture(typeof(TorchThreads))]

namespace StreamDetect.Models.Tests.Support;

/// <summary>
/// One intra-op thread per process: xunit runs test classes in parallel on a 2-core machine, and torch's spinning
/// thread pool degrades badly when oversubscribed. An assembly fixture rather than a module initializer: a module
/// initializer loads libtorch in every launch of the test executable, including the runner's assembly-information
/// query, whose process then takes over a second to exit; xunit 3.2.2 prints "Waiting 10 seconds for foreground
/// threads to exit" into that query's JSON, and `dotnet test` then runs no test of the project at all.
/// </summary>
public sealed class TorchThreads
{
    public TorchThreads() => TorchSharp.torch.set_num_threads(1);
}
