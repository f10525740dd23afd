using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamDetect.Engine.Telemetry;

/// <summary>
/// The operators' port (<c>streamdetect.metrics.prometheus.host:port</c>): a small HTTP/1.1 server on a socket of our
/// own that answers GET and HEAD, one request per connection (<c>Connection: close</c>), through a handler.
/// Not .NET's HttpListener: its managed implementation (Linux, macOS) fails <c>Start</c> with ArgumentNullException when
/// a client connects between its listen and its first accept (dotnet/corefx#35191), and leaves the port bound with an
/// accept pending, so no later start in the process can bind it. A readiness probe polling the port while the engine
/// starts is exactly that client: a local-cluster node exited 3 at start-up with it (1 run of 4 at load 30), and a
/// process test once. Here the socket listens before anything can reach it and every accept is ours.
/// A request head is read up to <see cref="MaxHeadBytes"/> within <see cref="HeadTimeout"/>; anything else gets 400,
/// 405 or 431 and the connection is closed. A handler's failure answers 500 and is not retried.
/// </summary>
internal sealed class OperatorHttpServer : IDisposable
{
    /// <summary>The most bytes a request's line and headers may take.</summary>
    public const int MaxHeadBytes = 8192;

    /// <summary>How long a client may take to send its request head.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly Func<OperatorRequest, CancellationToken, Task<OperatorResponse>> _handle;
    private readonly CancellationTokenSource _stop = new();

    private OperatorHttpServer(Socket socket, Func<OperatorRequest, CancellationToken, Task<OperatorResponse>> handle)
    {
        _socket = socket;
        _handle = handle;
    }

    /// <summary>The port it listens on (the one asked for, or the one the system gave for port 0).</summary>
    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    /// <summary>Binds <paramref name="address"/>:<paramref name="port"/>, listens and starts accepting.</summary>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    public static OperatorHttpServer Start(IPAddress address, int port, Func<OperatorRequest, CancellationToken, Task<OperatorResponse>> handle)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(128);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var server = new OperatorHttpServer(socket, handle);
        _ = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue; // A connection reset before it was accepted; the next one is served.
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var owned = client;
        await using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            deadline.CancelAfter(HeadTimeout);
            var (request, refusal) = await ReadHeadAsync(stream, deadline.Token);
            var response = refusal ?? await HandleAsync(request!);
            await WriteAsync(stream, response, headOnly: request?.Method == "HEAD", _stop.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, was too slow, or the server stopped; the next connection is served.
        }
    }

    private async Task<OperatorResponse> HandleAsync(OperatorRequest request)
    {
        try
        {
            return await _handle(request, _stop.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return OperatorResponse.Text(500, "error: " + e.GetType().Name);
        }
    }

    /// <summary>The request's method, path and Accept header, or the answer that refuses it.</summary>
    internal static async Task<(OperatorRequest? Request, OperatorResponse? Refusal)> ReadHeadAsync(Stream stream, CancellationToken cancellation)
    {
        var buffer = new byte[MaxHeadBytes];
        int length = 0, end;
        while ((end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (length == buffer.Length) return (null, OperatorResponse.Text(431, "request head larger than 8192 bytes"));
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellation);
            if (read == 0) throw new IOException("the client closed before the end of its request head");
            length += read;
        }
        string head = Encoding.Latin1.GetString(buffer, 0, end);
        string[] lines = head.Split("\r\n");
        string[] parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || !parts[1].StartsWith('/'))
            return (null, OperatorResponse.Text(400, "bad request line"));
        if (parts[0] is not ("GET" or "HEAD")) return (null, OperatorResponse.Text(405, "only GET and HEAD"));
        string? accept = null;
        foreach (string line in lines.AsSpan(1))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals("Accept", StringComparison.OrdinalIgnoreCase))
                accept = line[(colon + 1)..].Trim();
        }
        string target = parts[1];
        int query = target.IndexOf('?');
        string path = Uri.UnescapeDataString(query < 0 ? target : target[..query]);
        return (new OperatorRequest(parts[0], path, accept), null);
    }

    private static async Task WriteAsync(Stream stream, OperatorResponse response, bool headOnly, CancellationToken cancellation)
    {
        string head = $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\nContent-Type: {response.ContentType}\r\n" +
                      $"Content-Length: {response.Body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head), cancellation);
        if (!headOnly) await stream.WriteAsync(response.Body, cancellation);
        await stream.FlushAsync(cancellation);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }
}
