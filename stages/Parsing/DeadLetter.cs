using StreamDetect.Stages.Sources;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Parsing;

/// <summary>A record that was not accepted: the raw bytes, where they came from, and why.</summary>
public sealed record DeadLetter(RawRecord Raw, Rejection Rejection) : ParsedRecord(Raw.Position);
