namespace StreamDetect.Engine.Registry;

/// <summary>How a model version was made (column <c>origin</c>: trained or fine-tuned).</summary>
public enum ModelOrigin
{
    /// <summary>Trained from scratch (`train`, or `run` on its first days); it has no parent.</summary>
    Trained,

    /// <summary>Fine-tuned online from its parent version.</summary>
    FineTuned,
}
