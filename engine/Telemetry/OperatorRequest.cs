namespace StreamDetect.Engine.Telemetry;

/// <summary>A request to the operators' port: GET or HEAD, the decoded path without its query, and the Accept header if any.</summary>
internal sealed record OperatorRequest(string Method, string Path, string? Accept);
