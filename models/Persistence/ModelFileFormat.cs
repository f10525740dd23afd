namespace StreamDetect.Models.Persistence;

/// <summary>
/// The layout of a model file:
/// <code>
/// magic "SDMODEL\0" (8 bytes) | format version (uint16) | detector name (string) | feature schema version (int32)
/// section count (int32) | per section: name (string), length (int64), bytes
/// SHA-256 of everything before it (32 bytes)
/// </code>
/// Strings are BinaryWriter strings (length-prefixed UTF-8). Sections hold the hyper-parameters (JSON),
/// the tokenizer, weights, calibration, threshold, and for an ensemble its members' whole files.
/// </summary>
public static class ModelFileFormat
{
    public static ReadOnlySpan<byte> Magic => "SDMODEL\0"u8;

    /// <summary>Bumped when the layout above changes; older files are refused with a clear error.</summary>
    public const ushort Version = 1;

    /// <summary>Largest file accepted (models here are a few MB).</summary>
    public const long MaxBytes = 1L << 30;
}
