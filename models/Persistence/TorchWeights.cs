using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace StreamDetect.Models.Persistence;

/// <summary>Loads a TorchSharp module's weights from a model file section, turning shape or name
/// mismatches into a <see cref="ModelFileException"/>.</summary>
public static class TorchWeights
{
    public static void Load(nn.Module module, ModelFileReader file, string section)
    {
        try
        {
            using var stream = new MemoryStream(file.Section(section), writable: false);
            using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            module.load(reader, strict: true);
            if (stream.Position != stream.Length) throw new InvalidDataException($"{stream.Length - stream.Position} bytes left unread");
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException or ExternalException or InvalidOperationException or IndexOutOfRangeException or ObjectDisposedException)
        {
            throw new ModelFileException(file.Path, $"section '{section}' does not fit the network described by its hyper-parameters: {e.Message}", e);
        }
    }
}
