using Akka.Streams;
using StreamDetect.Stages.Parsing;
using StreamDetect.Stages.Sources;

namespace StreamDetect.Engine.Pipeline.Inputs;

/// <summary>What opening an input needs from the running engine.</summary>
/// <param name="Progress">Counts records (and bytes) read, for progress lines.</param>
public sealed record InputContext(EventParser Parser, ReadProgress Progress, IMaterializer Materializer);
