namespace StreamDetect.Stages.Validation;

/// <summary>A typed reason and a short human-readable detail (never the record's personal data).</summary>
public readonly record struct Rejection(RejectionReason Reason, string Detail)
{
    /// <summary>The reason as written in dead-letter files, e.g. "missing_field".</summary>
    public string Code => Reason switch
    {
        RejectionReason.MalformedJson => "malformed_json",
        RejectionReason.MalformedCsv => "malformed_csv",
        RejectionReason.InvalidEncoding => "invalid_encoding",
        RejectionReason.MissingField => "missing_field",
        RejectionReason.InvalidTimestamp => "invalid_timestamp",
        RejectionReason.OutOfRange => "out_of_range",
        RejectionReason.Oversize => "oversize",
        RejectionReason.UnsupportedSchema => "unsupported_schema",
        RejectionReason.Unreadable => "unreadable",
        _ => Reason.ToString(),
    };

    public override string ToString() => $"{Code}: {Detail}";
}
