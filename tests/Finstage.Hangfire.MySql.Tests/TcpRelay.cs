using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Finstage.Hangfire.MySql.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of a server, which a test can freeze: from then on it moves no byte either way and
/// closes nothing. That is what a network partition looks like to both ends: connections left half-open.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Socket> _sockets = [];
    private readonly TaskCompletionSource _thawed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _frozen;
    private Task _accepting = Task.CompletedTask;

    private TcpRelay(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
    }

    /// <summary>The port the relay listens on, at 127.0.0.1.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TcpRelay Start(string targetHost, int targetPort)
    {
        var relay = new TcpRelay(targetHost, targetPort);
        relay._listener.Start();
        relay._accepting = relay.AcceptAsync();
        return relay;
    }

    /// <summary>Stops every connection where it is, bytes already read included; for good.</summary>
    public void Freeze() => _frozen = true;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
        _thawed.TrySetResult();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var inbound = await _listener.AcceptSocketAsync(_stop.Token);
            _sockets.Add(inbound);
            var outbound = new Socket(SocketType.Stream, ProtocolType.Tcp);
            _sockets.Add(outbound);
            await outbound.ConnectAsync(_targetHost, _targetPort, _stop.Token);
            _ = PumpAsync(inbound, outbound);
            _ = PumpAsync(outbound, inbound);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (_frozen)
                {
                    // Neither what was read nor the end of the stream goes on: the other end hears nothing more.
                    await _thawed.Task;
                    return;
                }
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The relay is being disposed, or one end went away.
        }
    }
}
