using System.Text.Json;
using System.Text.Json.Serialization;

namespace StreamDetect.Models.Persistence;

/// <summary>JSON settings for the hyper-parameter sections of model files (readable, enums by name).</summary>
public static class ModelJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };
}
