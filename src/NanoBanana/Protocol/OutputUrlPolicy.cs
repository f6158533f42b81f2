using System.Net;
using System.Net.Sockets;

namespace NanoBanana.Protocol;

/// <summary>
/// Which output URLs the client fetches. Outputs are https on public addresses; http and loopback only when the API
/// itself is on loopback (the emulator); link-local, metadata, private and unspecified addresses and every other
/// scheme are refused unless the host is in <see cref="LimitOptions.AllowedOutputHosts"/>. The URL is judged before the
/// request; the addresses a host name resolves to are judged again when the SDK's own transport opens the connection
/// (<see cref="ConnectAsync"/>), so a public-looking name that resolves to a metadata or private address is refused too.
/// </summary>
internal sealed class OutputUrlPolicy
{
    /// <summary>The request option that asks the SDK's transport to judge the resolved addresses of a download.</summary>
    public static readonly HttpRequestOptionsKey<OutputUrlPolicy> RequestOption = new("NanoBanana.OutputUrlPolicy");

    private static readonly string[] MetadataHosts = ["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

    private readonly HashSet<string> _allowed;
    private readonly bool _apiOnLoopback;

    public OutputUrlPolicy(IEnumerable<string> allowedHosts, Uri apiBaseUrl)
    {
        _allowed = new HashSet<string>(allowedHosts.Select(h => h.Trim().Trim('[', ']')), StringComparer.OrdinalIgnoreCase);
        _apiOnLoopback = apiBaseUrl.IsAbsoluteUri && apiBaseUrl.IsLoopback;
    }

    /// <summary>
    /// What the transport's judgement of a connection depends on. Only the request that opens a connection is judged,
    /// and pooled connections are reused, so clients share a connection pool only when their policies agree
    /// (<see cref="SharedTransport"/>): a connection one client may open is never handed to one that would refuse it.
    /// </summary>
    public string PoolKey => (_apiOnLoopback ? "api-on-loopback" : "api-elsewhere") + "|" + string.Join(",", _allowed.Order(StringComparer.OrdinalIgnoreCase));

    /// <summary>Whether the caller listed the host of <paramref name="uri"/> in <see cref="LimitOptions.AllowedOutputHosts"/>.</summary>
    public bool Lists(Uri uri) => uri.IsAbsoluteUri && _allowed.Contains(uri.Host.Trim('[', ']'));

    /// <summary>How host names are resolved before a download connects (a seam for tests; DNS by default).</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> Resolve { get; set; } = Dns.GetHostAddressesAsync;

    /// <summary>Null when a connection to this resolved address may be made for an output of this host; otherwise why not.</summary>
    public string? CheckAddress(string host, IPAddress address)
    {
        if (_allowed.Contains(host.Trim('[', ']')))
        {
            return null;
        }

        if (IPAddress.IsLoopback(address))
        {
            return _apiOnLoopback ? null : "loopback and the API is not";
        }

        return Classify(address);
    }

    /// <summary>
    /// The connect step of the SDK's transport: resolves the host and, for a download carrying <see cref="RequestOption"/>,
    /// refuses to connect when any address it resolves to is refused (all of them are checked, so a mixed answer cannot
    /// slip a metadata address in). Other requests connect as the runtime would, and so does a connection to a proxy:
    /// the proxy resolves the output's host itself.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (context.InitialRequestMessage.Options.TryGetValue(RequestOption, out var policy) && !ToProxy(context))
            {
                // A download: resolve here and judge every address before any connection is made.
                var host = context.DnsEndPoint.Host;
                IPAddress[] addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal]
                    : await policy.Resolve(host, cancellationToken).ConfigureAwait(false);
                foreach (var address in addresses)
                {
                    if (policy.CheckAddress(host, address) is { } problem)
                    {
                        throw new AddressRefusedException($"host {host} resolves to {address}, which is {problem} (add the host to AllowedOutputHosts for a private CDN)");
                    }
                }

                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false); // as the runtime would
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Whether this connection goes to a proxy (HTTPS_PROXY, the system's, or one set on the handler) rather than to the
    // request's host: the proxy resolves the output's host itself, so its own address, often private or loopback (a
    // corporate or local proxy), says nothing about where the output lives. The host was judged by name before the fetch.
    private static bool ToProxy(SocketsHttpConnectionContext context) =>
        context.InitialRequestMessage.RequestUri is { } uri
        && (!string.Equals(context.DnsEndPoint.Host.Trim('[', ']'), uri.IdnHost.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) || context.DnsEndPoint.Port != uri.Port);

    /// <summary>A download's host resolved to an address that is never fetched: not retried, reported with the prediction id.</summary>
    public sealed class AddressRefusedException(string message) : IOException(message);

    /// <summary>Null when the URL may be fetched; otherwise why not.</summary>
    public string? Check(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return $"scheme '{(uri.IsAbsoluteUri ? uri.Scheme : "relative")}' is not https";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "the URL carries credentials";
        }

        var host = uri.IdnHost.Trim('[', ']');
        if (_allowed.Contains(host))
        {
            return null;
        }

        var loopback = uri.IsLoopback;
        if (loopback)
        {
            return _apiOnLoopback ? null : $"host {host} is loopback and the API is not (add it to AllowedOutputHosts to allow it)";
        }

        if (uri.Scheme != Uri.UriSchemeHttps)
        {
            return $"plain http to {host} (only https is fetched; add the host to AllowedOutputHosts for a private http CDN)";
        }

        if (MetadataHosts.Contains(host, StringComparer.OrdinalIgnoreCase) || host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase))
        {
            return $"host {host} is a cloud metadata or internal name";
        }

        if (IPAddress.TryParse(host, out var address) && Classify(address) is { } problem)
        {
            return $"address {host} is {problem} (add it to AllowedOutputHosts for a private CDN)";
        }

        return null;
    }

    /// <summary>Why a connection to this address must never be made for an output, or null. Loopback is not judged here.</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b switch
            {
                [169, 254, ..] => "link-local (cloud metadata lives here)",
                [0, ..] => "unspecified",
                [10, ..] => "private",
                [172, >= 16 and <= 31, ..] => "private",
                [192, 168, ..] => "private",
                [100, >= 64 and <= 127, ..] => "shared (carrier-grade NAT)",
                [>= 224, ..] => "multicast or reserved",
                _ => null,
            };
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)
            {
                return "link-local";
            }

            if (address.Equals(IPAddress.IPv6Any))
            {
                return "unspecified";
            }

            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if ((b[0] & 0xFE) == 0xFC)
            {
                return "private (unique local; cloud metadata lives here too)";
            }

            if (address.IsIPv6Multicast)
            {
                return "multicast";
            }
        }

        return null;
    }
}
