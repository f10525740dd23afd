namespace StreamDetect.Models.Features;

/// <summary>What a feature's raw value counts or measures (how an alert writes it).</summary>
public enum FeatureUnit
{
    /// <summary>A number of events or things (a time-decayed count may be fractional).</summary>
    Count,
    /// <summary>A duration in seconds.</summary>
    Seconds,
    /// <summary>A share between 0 and 1 (written as a percentage).</summary>
    Share,
    /// <summary>1 = yes, 0 = no.</summary>
    Flag,
    /// <summary>A money amount, in the events' own currency.</summary>
    Amount,
    /// <summary>A plain number whose meaning says what it is (a ratio, standard deviations, an entropy, a sine).</summary>
    Number,
}
