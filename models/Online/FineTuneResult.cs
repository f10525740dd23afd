using System.Text.Json;
using StreamDetect.Models.Dataset;
using StreamDetect.Models.Detection;

namespace StreamDetect.Models.Online;

/// <summary>
/// What one fine-tuning round made: the candidate (a new detector the caller owns and disposes; its own modules,
/// calibrated on <see cref="HeldBack"/>), where it came from, and the round's figures.
/// </summary>
public sealed record FineTuneResult
{
    public required IAnomalyDetector Candidate { get; init; }

    /// <summary>The champion's version the candidate was fine-tuned from (the registry's parent id).</summary>
    public required string ParentVersion { get; init; }

    /// <summary>The version whose weights bound the distance (the originally trained one).</summary>
    public required string BaseVersion { get; init; }

    public required int Steps { get; init; }

    /// <summary>Samples trained on (traffic and false-alarm labels).</summary>
    public required int TrainingSamples { get; init; }

    /// <summary>False-alarm labels among them.</summary>
    public required int FalseAlarmLabels { get; init; }

    /// <summary>Anchor users mixed in.</summary>
    public required int AnchorUsers { get; init; }

    /// <summary>Predicted events in the batches of the round (samples and anchors).</summary>
    public required long TrainedEvents { get; init; }

    /// <summary>Held-back normal samples: the candidate's calibration and the gates' recent normal set.</summary>
    public required BehaviorDataset HeldBack { get; init; }

    public required long FirstEventTimeMs { get; init; }

    public required long LastEventTimeMs { get; init; }

    /// <summary>Mean loss of the round's first and last few batches.</summary>
    public required double FirstLoss { get; init; }

    public required double LastLoss { get; init; }

    /// <summary>||w - w_base|| / ||w_base|| of the trained weights at the end.</summary>
    public required double Distance { get; init; }

    public required TimeSpan Elapsed { get; init; }

    public required string Device { get; init; }

    /// <summary>New event types: those this round assigned to reserved slots (the candidate's vocabulary holds them),
    /// those left &lt;unk&gt; because the slots were full or they were too rare, and the free slots left.</summary>
    public required VocabularyGrowth Vocabulary { get; init; }

    /// <summary>The feature members refitted on the round's samples and the anchors (empty when the refit is off).</summary>
    public IReadOnlyList<string> RefittedMembers { get; init; } = [];

    /// <summary>
    /// The registry's origin detail (fine-tuned): samples, event-time range, steps and figures, as JSON. A figure that is
    /// not a finite number (the losses of a round without a step are NaN; a diverged loss is infinite) is written as null:
    /// JSON has no NaN or Infinity, and the detail must never fail a round.
    /// </summary>
    public string DetailJson() => JsonSerializer.Serialize(new
    {
        parent = ParentVersion,
        @base = BaseVersion,
        steps = Steps,
        samples = TrainingSamples,
        false_alarm_labels = FalseAlarmLabels,
        held_back = HeldBack.Users.Count,
        anchor_users = AnchorUsers,
        trained_events = TrainedEvents,
        from = DateTime.UnixEpoch.AddMilliseconds(FirstEventTimeMs).ToString("O"),
        until = DateTime.UnixEpoch.AddMilliseconds(LastEventTimeMs).ToString("O"),
        first_loss = Finite(FirstLoss),
        last_loss = Finite(LastLoss),
        distance = Finite(Distance),
        seconds = Elapsed.TotalSeconds,
        device = Device,
        assigned_types = Vocabulary.Assigned,
        types_slots_full = Vocabulary.SlotsFull,
        types_below_minimum = Vocabulary.BelowMinimum,
        free_type_slots = Vocabulary.FreeSlots,
        refitted_members = RefittedMembers,
    });

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
