using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace StreamDetect.Models.Persistence;

/// <summary>
/// Collects a detector's sections and writes them as one model file (<see cref="ModelFileFormat"/>).
/// The content hash of the sections is the detector's <c>Version</c>: the same weights give the same id.
/// </summary>
public sealed class ModelFileWriter
{
    private readonly List<(string Name, byte[] Bytes)> _sections = [];

    public ModelFileWriter(string detectorName, int featureSchemaVersion)
    {
        DetectorName = detectorName;
        FeatureSchemaVersion = featureSchemaVersion;
    }

    public string DetectorName { get; }

    public int FeatureSchemaVersion { get; }

    public void Add(string name, byte[] bytes)
    {
        if (_sections.Any(s => s.Name == name)) throw new ArgumentException($"section '{name}' written twice", nameof(name));
        _sections.Add((name, bytes));
    }

    /// <summary>Adds a section written through a <see cref="BinaryWriter"/>.</summary>
    public void Add(string name, Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true)) write(writer);
        Add(name, stream.ToArray());
    }

    /// <summary>Adds a section holding a value as JSON.</summary>
    public void AddJson<T>(string name, T value) => Add(name, JsonSerializer.SerializeToUtf8Bytes(value, ModelJson.Options));

    /// <summary>A stable id of the content: the first 16 hex digits of a SHA-256 over name, schema and sections.</summary>
    public string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(DetectorName));
        hash.AppendData(BitConverter.GetBytes(FeatureSchemaVersion));
        foreach (var (name, bytes) in _sections)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name));
            hash.AppendData(BitConverter.GetBytes(bytes.LongLength));
            hash.AppendData(bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>The whole file as bytes.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(ModelFileFormat.Magic);
            writer.Write(ModelFileFormat.Version);
            writer.Write(DetectorName);
            writer.Write(FeatureSchemaVersion);
            writer.Write(_sections.Count);
            foreach (var (name, bytes) in _sections)
            {
                writer.Write(name);
                writer.Write(bytes.LongLength);
                writer.Write(bytes);
            }
        }
        byte[] body = stream.ToArray();
        byte[] digest = SHA256.HashData(body);
        return [.. body, .. digest];
    }

    /// <summary>Writes the file atomically (a temporary file beside it, then a rename).</summary>
    public void Save(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string? directory = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        string temporary = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temporary, ToBytes());
        File.Move(temporary, full, overwrite: true);
    }
}
