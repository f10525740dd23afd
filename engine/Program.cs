using System.CommandLine;
using StreamDetect.Engine.Cli;

// Ctrl-C and SIGTERM (docker stop) cancel the command's token; a Kafka run then stops consuming,
// finishes what is in flight, commits and prints its report. The process is killed only if that takes
// longer than this (System.CommandLine's default, 2 s, cut the drain short).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = StreamDetectCli.ShutdownTimeout };
return await StreamDetectCli.Build().Parse(args).InvokeAsync(invocation);
