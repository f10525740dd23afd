using StreamDetect.Models.Events;
using StreamDetect.Stages.Validation;

namespace StreamDetect.Stages.Parsing;

/// <summary>Either a valid event or the reason there is none.</summary>
public readonly record struct DecodeResult(UserEvent? Event, Rejection? Rejection);
