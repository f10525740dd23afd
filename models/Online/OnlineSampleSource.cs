namespace StreamDetect.Models.Online;

/// <summary>Where an online sample comes from.</summary>
public enum OnlineSampleSource
{
    /// <summary>Live traffic judged normal by the detectors (the guard's rules apply).</summary>
    Traffic,

    /// <summary>An alert an analyst labelled a false alarm (DeepLog's online update): learned, under its own cap.</summary>
    FalseAlarmLabel,
}
