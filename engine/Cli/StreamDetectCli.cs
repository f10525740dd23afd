using System.CommandLine;

namespace StreamDetect.Engine.Cli;

/// <summary>The `streamdetect` command line: one subcommand per file in this folder.</summary>
public static class StreamDetectCli
{
    /// <summary>How long a command may take to stop cleanly after Ctrl-C or SIGTERM before the process is killed.</summary>
    public static TimeSpan ShutdownTimeout { get; } = TimeSpan.FromSeconds(60);

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "StreamDetect: detects anomalous user-behaviour sequences (bots, card testing, account takeover, " +
            "fake orders, review spam, promotion abuse) in e-commerce event streams as they arrive.");
        root.Options.Add(CommonOptions.Config);
        root.Options.Add(CommonOptions.Verbose);
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(GenCommand.Create());
        root.Subcommands.Add(StateCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(KafkaMockCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        return root;
    }
}
