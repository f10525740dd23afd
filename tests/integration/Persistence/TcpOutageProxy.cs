using System.Net;
using System.Net.Sockets;

namespace StreamDetect.Integration.Tests.Persistence;

/// <summary>
/// A TCP forwarder between the engine and a server (PostgreSQL) that a test can cut and restore: cut
/// closes every open connection and refuses new ones (each is accepted and closed at once), as a
/// restarting server does; restore forwards again. The server itself, shared by other tests, is never
/// touched.
/// </summary>
public sealed class TcpOutageProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private volatile bool _down;
    private long _refused;

    public TcpOutageProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections refused while cut.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    public void Cut()
    {
        _down = true;
        lock (_open)
        {
            foreach (var client in _open) client.Dispose();
            _open.Clear();
        }
    }

    public void Restore() => _down = false;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_down)
            {
                Interlocked.Increment(ref _refused);
                client.Client.LingerState = new LingerOption(true, 0); // a reset, like a port nobody listens on
                client.Dispose();
                continue;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            lock (_open)
            {
                _open.Add(client);
                _open.Add(server);
            }
            var a = client.GetStream();
            var b = server.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
        }
        catch (Exception)
        {
            // a cut connection ends here
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        await _accepting;
        _stop.Dispose();
    }
}
