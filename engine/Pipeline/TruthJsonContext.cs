namespace StreamDetect.Engine.Pipeline;

/// <summary>Source-generated JSON metadata for truth files.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class TruthJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
