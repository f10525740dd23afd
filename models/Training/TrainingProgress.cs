namespace StreamDetect.Models.Training;

/// <summary>A progress report from training: one per epoch (and a few stage messages).</summary>
/// <param name="Model">The model being trained (an ensemble reports its members by name).</param>
/// <param name="Epoch">1-based epoch, 0 for a stage message.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Loss">Mean training loss of the epoch.</param>
/// <param name="ValidationLoss">Validation loss (what early stopping watches), when computed.</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="Message">A stage message ("building features", "early stop", ...), when any.</param>
public sealed record TrainingProgress(string Model, int Epoch, int Epochs, double Loss, double? ValidationLoss, TimeSpan Elapsed, string? Message = null)
{
    public override string ToString() =>
        Message is not null && Epoch == 0
            ? $"[{Elapsed.TotalSeconds,6:F1}s] {Model}: {Message}"
            : $"[{Elapsed.TotalSeconds,6:F1}s] {Model}: epoch {Epoch}/{Epochs} loss {Loss:F4}" +
              (ValidationLoss is double v ? $" val {v:F4}" : "") + (Message is null ? "" : $" ({Message})");
}
