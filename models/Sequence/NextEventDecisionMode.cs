namespace StreamDetect.Models.Sequence;

/// <summary>How a next-event model (lstm, gru, transformer) decides that an event is anomalous
/// (HOCON <c>streamdetect.models.&lt;name&gt;.decision</c>).</summary>
public enum NextEventDecisionMode
{
    /// <summary>The calibrated surprise (-ln p of what happened) against the threshold of the wanted alert rate.</summary>
    Surprise,

    /// <summary>DeepLog's rule: an event whose type is outside the model's k most likely next types is anomalous.</summary>
    TopK,
}
