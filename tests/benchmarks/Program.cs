using BenchmarkDotNet.Running;

// `dotnet run -c Release --project tests/benchmarks -- --filter '*'` runs every benchmark; see BenchmarkDotNet's
// --help for the rest.
BenchmarkSwitcher.FromAssembly(typeof(StreamDetect.Benchmarks.Generator.TrafficGeneratorBenchmark).Assembly).Run(args);
