using System.Globalization;
using Akka.Configuration;

namespace StreamDetect.Stages.Configuration;

/// <summary>
/// Reads typed values from one HOCON block and rejects bad ones with a <see cref="SettingsException"/>
/// that names the full key. Every settings class's <c>Create(Config)</c> goes through this.
/// </summary>
public sealed class SettingsReader
{
    private readonly Config _config;

    /// <param name="config">The whole configuration.</param>
    /// <param name="path">The block to read, e.g. "streamdetect.validation".</param>
    public SettingsReader(Config config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        Path = path;
        if (!config.HasPath(path))
            throw new SettingsException(path, "block is missing (is hocon/streamdetect.conf loaded?)");
        _config = config.GetConfig(path);
    }

    /// <summary>The block this reader reads.</summary>
    public string Path { get; }

    /// <summary>The block as a <see cref="Config"/>, for nested readers and pass-through maps.</summary>
    public Config Config => _config;

    public string Key(string key) => $"{Path}.{key}";

    public bool Has(string key) => _config.HasPath(key);

    public string String(string key, bool allowEmpty = false)
    {
        Require(key);
        string? value = _config.GetString(key);
        if (value is null || (!allowEmpty && value.Length == 0))
            throw new SettingsException(Key(key), "must not be empty");
        return value;
    }

    public string? OptionalString(string key)
    {
        if (!_config.HasPath(key)) return null;
        string? value = _config.GetString(key);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    public bool Bool(string key)
    {
        Require(key);
        string raw = _config.GetString(key) ?? "";
        return raw.ToLowerInvariant() switch
        {
            "true" or "on" or "yes" => true,
            "false" or "off" or "no" => false,
            _ => throw new SettingsException(Key(key), $"'{raw}' is not a boolean (true/false)"),
        };
    }

    public int Int(string key, int min = int.MinValue, int max = int.MaxValue)
    {
        long value = Long(key, min, max);
        return (int)value;
    }

    public long Long(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        Require(key);
        string raw = _config.GetString(key) ?? "";
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value))
            throw new SettingsException(Key(key), $"'{raw}' is not an integer");
        if (value < min || value > max)
            throw new SettingsException(Key(key), $"{value} is outside [{min}, {max}]");
        return value;
    }

    public double Double(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        Require(key);
        string raw = _config.GetString(key) ?? "";
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw new SettingsException(Key(key), $"'{raw}' is not a number");
        if (value < min || value > max)
            throw new SettingsException(Key(key), $"{value.ToString(CultureInfo.InvariantCulture)} is outside [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
        return value;
    }

    /// <summary>A HOCON duration ("10ms", "5s", "2m"); must be positive unless <paramref name="allowZero"/>.</summary>
    public TimeSpan Duration(string key, bool allowZero = false)
    {
        Require(key);
        TimeSpan value;
        try
        {
            value = _config.GetTimeSpan(key, allowInfinite: false);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or ArgumentException or OverflowException)
        {
            throw new SettingsException(Key(key), $"'{_config.GetString(key)}' is not a duration (e.g. 10ms, 5s, 2m)");
        }
        if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero))
            throw new SettingsException(Key(key), $"{value} must be {(allowZero ? "zero or positive" : "positive")}");
        return value;
    }

    /// <summary>A size in bytes; HOCON sizes such as "64KiB" or "1MB" are accepted.</summary>
    public long Bytes(string key, long min = 1, long max = long.MaxValue)
    {
        Require(key);
        long? value;
        try
        {
            value = _config.GetByteSize(key);
        }
        catch (Exception e) when (e is FormatException or ConfigurationException or ArgumentException or OverflowException)
        {
            value = null;
        }
        if (value is null)
            throw new SettingsException(Key(key), $"'{_config.GetString(key)}' is not a size (e.g. 65536, 64KiB, 1MiB)");
        if (value < min || value > max)
            throw new SettingsException(Key(key), $"{value} bytes is outside [{min}, {max}]");
        return value.Value;
    }

    /// <summary>An ISO 8601 time in UTC, returned as Unix epoch milliseconds.</summary>
    public long TimeMs(string key)
    {
        string raw = String(key);
        if (!DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            throw new SettingsException(Key(key), $"'{raw}' is not an ISO 8601 time (e.g. 2000-01-01T00:00:00Z)");
        return time.ToUnixTimeMilliseconds();
    }

    /// <summary>One of a fixed set of words (case-insensitive), returned in lower case.</summary>
    public string OneOf(string key, params string[] allowed)
    {
        string value = String(key).ToLowerInvariant();
        if (!allowed.Contains(value, StringComparer.Ordinal))
            throw new SettingsException(Key(key), $"'{value}' is not one of: {string.Join(", ", allowed)}");
        return value;
    }

    public IReadOnlyList<string> StringList(string key)
    {
        Require(key);
        try
        {
            return _config.GetStringList(key).ToArray();
        }
        catch (Exception e) when (e is ConfigurationException or InvalidCastException or FormatException)
        {
            throw new SettingsException(Key(key), "must be a list of strings, e.g. [\"a\", \"b\"]");
        }
    }

    /// <summary>A flat map of string values (e.g. librdkafka properties passed through as they are).</summary>
    public IReadOnlyDictionary<string, string> StringMap(string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!_config.HasPath(key)) return result;
        Config block = _config.GetConfig(key);
        foreach (var entry in block.AsEnumerable())
        {
            string value = entry.Value.GetString() ?? "";
            result[entry.Key.Trim('"')] = value;
        }
        return result;
    }

    /// <summary>A reader for a nested block.</summary>
    public SettingsReader Nested(string key)
    {
        Require(key);
        return new SettingsReader(_config.GetConfig(key), Key(key), nested: true);
    }

    private SettingsReader(Config block, string path, bool nested)
    {
        _ = nested; // distinguishes this constructor from the public one
        Path = path;
        _config = block;
    }

    private void Require(string key)
    {
        if (!_config.HasPath(key))
            throw new SettingsException(Key(key), "is missing");
    }
}
