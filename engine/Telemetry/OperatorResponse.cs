using System.Text;

namespace StreamDetect.Engine.Telemetry;

/// <summary>An answer of the operators' port: status, content type and body.</summary>
internal sealed record OperatorResponse(int Status, string ContentType, byte[] Body)
{
    /// <summary>A plain-text answer (the body gets a final newline).</summary>
    public static OperatorResponse Text(int status, string body) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(body + "\n"));
}
