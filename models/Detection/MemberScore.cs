namespace StreamDetect.Models.Detection;

/// <summary>One ensemble member's verdict.</summary>
public sealed record MemberScore(string Model, double Score, Explanation Explanation);
