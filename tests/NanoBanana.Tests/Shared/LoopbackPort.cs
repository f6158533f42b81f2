using System.Net;
using System.Net.Sockets;

namespace NanoBanana.Soak;

/// <summary>A port on 127.0.0.1 that the system just handed out and nothing listens on now.</summary>
internal static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
