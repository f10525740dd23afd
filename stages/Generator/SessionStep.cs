namespace StreamDetect.Stages.Generator;

/// <summary>One event of a session before it is stamped with user, time, device and address.</summary>
internal struct SessionStep
{
    public string Type;
    /// <summary>Item popularity rank, or -1.</summary>
    public int Item;
    /// <summary>Amount, or NaN for none.</summary>
    public double Amount;
    public string? Query;
    /// <summary>Milliseconds since the previous event of the session (0 for the first).</summary>
    public long GapMs;

    public SessionStep(string type, long gapMs, int item = -1, double amount = double.NaN, string? query = null)
    {
        Type = type;
        GapMs = gapMs;
        Item = item;
        Amount = amount;
        Query = query;
    }
}
