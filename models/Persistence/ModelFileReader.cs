using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace StreamDetect.Models.Persistence;

/// <summary>
/// Reads and checks a model file (<see cref="ModelFileFormat"/>): magic, format version, checksum and
/// section table. Every problem is a <see cref="ModelFileException"/> naming the file.
/// </summary>
public sealed class ModelFileReader
{
    private readonly Dictionary<string, byte[]> _sections;
    private readonly List<string> _order;

    private ModelFileReader(string path, string detectorName, int featureSchemaVersion, Dictionary<string, byte[]> sections, List<string> order)
    {
        Path = path;
        DetectorName = detectorName;
        FeatureSchemaVersion = featureSchemaVersion;
        _sections = sections;
        _order = order;
    }

    /// <summary>The file read (or a description of where nested bytes came from).</summary>
    public string Path { get; }

    public string DetectorName { get; }

    public int FeatureSchemaVersion { get; }

    public IReadOnlyList<string> SectionNames => _order;

    public static ModelFileReader Open(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ModelFileException(path, "does not exist");
            if (info.Length > ModelFileFormat.MaxBytes) throw new ModelFileException(path, $"is {info.Length} bytes, larger than any model ({ModelFileFormat.MaxBytes})");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot be read: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses a model file's bytes; <paramref name="origin"/> names them in errors.</summary>
    public static ModelFileReader Parse(byte[] bytes, string origin)
    {
        var magic = ModelFileFormat.Magic;
        if (bytes.Length < magic.Length || !bytes.AsSpan(0, magic.Length).SequenceEqual(magic))
            throw new ModelFileException(origin, "is not a StreamDetect model file (wrong magic bytes)");
        if (bytes.Length < magic.Length + 2)
            throw new ModelFileException(origin, "is truncated (no format version)");
        ushort version = BitConverter.ToUInt16(bytes, magic.Length);
        if (version != ModelFileFormat.Version)
            throw new ModelFileException(origin, $"has format version {version}; this build reads version {ModelFileFormat.Version}");
        if (bytes.Length < magic.Length + 2 + 32)
            throw new ModelFileException(origin, "is truncated");

        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            stream.Position = magic.Length + 2;
            string name = reader.ReadString();
            int schema = reader.ReadInt32();
            int count = reader.ReadInt32();
            if (count < 0 || count > 4096) throw new ModelFileException(origin, $"is corrupt ({count} sections)");
            var sections = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            var order = new List<string>();
            for (int i = 0; i < count; i++)
            {
                string section = reader.ReadString();
                long length = reader.ReadInt64();
                if (length < 0 || length > bytes.Length - stream.Position - 32)
                    throw new ModelFileException(origin, $"is truncated (section '{section}' declares {length} bytes, {Math.Max(0, bytes.Length - stream.Position - 32)} remain)");
                sections[section] = reader.ReadBytes((int)length);
                order.Add(section);
            }
            long bodyLength = stream.Position;
            if (bytes.Length - bodyLength < 32)
                throw new ModelFileException(origin, "is truncated (checksum missing)");
            if (bytes.Length - bodyLength > 32)
                throw new ModelFileException(origin, $"has {bytes.Length - bodyLength - 32} unexpected bytes after its checksum");
            byte[] digest = SHA256.HashData(bytes.AsSpan(0, (int)bodyLength));
            if (!digest.AsSpan().SequenceEqual(bytes.AsSpan((int)bodyLength, 32)))
                throw new ModelFileException(origin, "is corrupt (checksum mismatch)");
            return new ModelFileReader(origin, name, schema, sections, order);
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFileException(origin, "is truncated", e);
        }
    }

    public bool Has(string section) => _sections.ContainsKey(section);

    /// <summary>A section's bytes; a missing section is a <see cref="ModelFileException"/>.</summary>
    public byte[] Section(string section) =>
        _sections.TryGetValue(section, out byte[]? bytes)
            ? bytes
            : throw new ModelFileException(Path, $"has no '{section}' section (is it a '{DetectorName}' model of this build?)");

    /// <summary>Reads a section through a <see cref="BinaryReader"/>; malformed content is reported with the section's name.</summary>
    public T Read<T>(string section, Func<BinaryReader, T> read)
    {
        using var stream = new MemoryStream(Section(section), writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            T value = read(reader);
            if (stream.Position != stream.Length)
                throw new InvalidDataException($"{stream.Length - stream.Position} bytes left unread");
            return value;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or FormatException)
        {
            throw new ModelFileException(Path, $"section '{section}' is malformed: {e.Message}", e);
        }
    }

    public T ReadJson<T>(string section)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Section(section), ModelJson.Options)
                ?? throw new ModelFileException(Path, $"section '{section}' is empty");
        }
        catch (JsonException e)
        {
            throw new ModelFileException(Path, $"section '{section}' is not valid for this build: {e.Message}", e);
        }
    }
}
