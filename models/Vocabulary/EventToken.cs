namespace StreamDetect.Models.Vocabulary;

/// <summary>One event as the sequence models see it: the type token and three context buckets.</summary>
public readonly record struct EventToken(int Type, int Gap, int Amount, int Item);
