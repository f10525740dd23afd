using System.Net;
using System.Net.Sockets;
using System.Text;
using StreamDetect.Engine.Telemetry;

namespace StreamDetect.Engine.Tests.Telemetry;

/// <summary>
/// The operators' port starts while clients poll it (docker/local-cluster.sh and the process tests wait for
/// /health/ready that way; so do orchestrators). With .NET's HttpListener on it a local-cluster node once exited 3 at
/// start-up: its Start throws ArgumentNullException when a client connects between its listen and its first accept,
/// and leaves the port bound (<see cref="OperatorHttpServer"/>).
/// </summary>
public sealed class MetricsEndpointStartTests
{
    // Two threads connect to the port in a loop while the endpoint starts and stops 300 times. On the HttpListener
    // endpoint this failed every time it ran here (an ArgumentNullException, or "Address already in use" after one).
    [Fact]
    public async Task The_endpoint_starts_every_time_while_clients_poll_its_port()
    {
        int port = FreePort();
        var settings = new MetricsSettings { Enabled = true, Host = "127.0.0.1", Port = port };
        using var stop = new CancellationTokenSource();
        var pollers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    client.Connect(IPAddress.Loopback, port);
                }
                catch (SocketException)
                {
                    // Not listening at this instant.
                }
            }
        })).ToArray();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                using var endpoint = MetricsEndpoint.Start(settings, () => null);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(pollers);
        }
    }

    [Fact]
    public async Task It_scrapes_through_the_port_and_answers_health_and_refuses_what_it_does_not_serve()
    {
        int port = FreePort();
        string? notReady = "recovering";
        using var endpoint = MetricsEndpoint.Start(new MetricsSettings { Enabled = true, Host = "127.0.0.1", Port = port }, () => notReady);

        string scrape = await ExchangeAsync(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", scrape);
        Assert.Contains("Content-Type: text/plain", scrape);
        Assert.Contains("\r\nConnection: close\r\n", scrape);
        Assert.Contains("# TYPE ", scrape); // the exporter's text format, forwarded

        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(port, "GET /health/live HTTP/1.0\r\n\r\n"));
        string ready = await ExchangeAsync(port, "GET /health/ready HTTP/1.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 503 ", ready);
        Assert.EndsWith("\r\n\r\nnot ready: recovering\n", ready);
        notReady = null;
        Assert.EndsWith("\r\n\r\nready\n", await ExchangeAsync(port, "GET /health/ready/ HTTP/1.1\r\n\r\n"));
        endpoint.Drain();
        Assert.EndsWith("\r\n\r\ndraining\n", await ExchangeAsync(port, "GET /health/ready HTTP/1.1\r\n\r\n"));

        string head = await ExchangeAsync(port, "HEAD /health/live HTTP/1.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK", head);
        Assert.Contains("Content-Length: 5\r\n", head);
        Assert.EndsWith("\r\n\r\n", head); // no body

        Assert.StartsWith("HTTP/1.1 404 ", await ExchangeAsync(port, "GET /nothing HTTP/1.1\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 405 ", await ExchangeAsync(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400 ", await ExchangeAsync(port, "GARBAGE\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 431 ", await ExchangeAsync(port, "GET /metrics HTTP/1.1\r\nX: " + new string('a', 9000) + "\r\n\r\n"));
    }

    [Fact]
    public async Task A_client_that_never_sends_its_request_does_not_hold_up_the_next_one()
    {
        int port = FreePort();
        using var endpoint = MetricsEndpoint.Start(new MetricsSettings { Enabled = true, Host = "127.0.0.1", Port = port }, () => null);
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        await silent.SendAsync("GET /health/li"u8.ToArray(), TestContext.Current.CancellationToken);
        Assert.StartsWith("HTTP/1.1 200 OK", await ExchangeAsync(port, "GET /health/live HTTP/1.1\r\n\r\n"));
    }

    [Fact]
    public void A_port_in_use_is_a_user_error_naming_the_setting()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var error = Assert.Throws<StreamDetect.Engine.Configuration.UserInputException>(
            () => MetricsEndpoint.Start(new MetricsSettings { Enabled = true, Host = "127.0.0.1", Port = port }, () => null));
        Assert.StartsWith("streamdetect.metrics.prometheus.port (--metrics-port): cannot listen on 127.0.0.1:", error.Message);
    }

    private static async Task<string> ExchangeAsync(int port, string request)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        await using var stream = new NetworkStream(client);
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), TestContext.Current.CancellationToken);
        using var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, TestContext.Current.CancellationToken); // the server closes after its answer
        }
        catch (IOException)
        {
            // A refused request may be reset while its unread rest is in flight; what came back is kept.
        }
        return Encoding.UTF8.GetString(answer.ToArray());
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
