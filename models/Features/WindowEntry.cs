namespace StreamDetect.Models.Features;

/// <summary>
/// One event as the per-user window keeps it: the type (a shared, interned string), the time, the
/// amount and hashed item/category ids. Tokens and buckets are derived from these by the models'
/// tokenizer, so the window does not depend on any one model's vocabulary.
/// </summary>
public readonly record struct WindowEntry(string Type, long TimestampMs, float Amount, int ItemHash, int CategoryHash)
{
    /// <summary>Whether the event carried an amount (absent amounts are stored as NaN).</summary>
    public bool HasAmount => !float.IsNaN(Amount);

    /// <summary>The type's feature-profile bucket (<see cref="Events.EventTypes.ProfileIndex"/>), computed once.</summary>
    public byte Bucket { get; } = (byte)Events.EventTypes.ProfileIndex(Type);
}
