using BenchmarkDotNet.Running;

// `dotnet run -c Release --project tests/benchmarks -- --filter '*'` runs every benchmark; see BenchmarkDotNet's
// --help for the rest. `-- scoring-cost --data FILE --model M.sdm` measures CPU per scored event (ScoringCost).
// `-- model-throughput --kinds lstm,gru,transformer,ae --device cuda --batch-sizes 1,64,1024` times the networks' forward pass alone (ModelThroughput).
if (args.Length > 0 && args[0] == "model-throughput") return StreamDetect.Benchmarks.Models.ModelThroughput.Run(args[1..]);
if (args.Length > 0 && args[0] == "scoring-cost") return StreamDetect.Benchmarks.Models.ScoringCost.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(StreamDetect.Benchmarks.Generator.TrafficGeneratorBenchmark).Assembly).Run(args);
return 0;
