using StreamDetect.Stages.Sources;

namespace StreamDetect.Stages.Parsing;

/// <summary>What the parse stage emits for each record: an <see cref="IngestedEvent"/> or a <see cref="DeadLetter"/>.</summary>
public abstract record ParsedRecord(SourcePosition Position);
