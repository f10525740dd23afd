namespace StreamDetect.Models.Features;

/// <summary>
/// A model's per-user state (e.g. a recurrent model's hidden state), opaque to everything but the
/// model that wrote it. <see cref="ModelKey"/> names the model and version that produced it and
/// <see cref="EventsFolded"/> how many of the user's events it has seen, so a stale or foreign state
/// is recognised and rebuilt from the window instead of being misused.
/// </summary>
public sealed record ModelStateSlot(string ModelKey, long EventsFolded, float[] Values);
