using System.Net;
using System.Net.Sockets;

namespace FanOut.Hangfire.Testing;

/// <summary>Free TCP ports on 127.0.0.1, for servers the tests start.</summary>
public static class LoopbackPort
{
    /// <summary>A port free right now; another process may still take it before the caller binds it.</summary>
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
