namespace NanoBanana;

/// <summary>
/// Bounds on what a service can make the client read, hold or fetch. A service that exceeds one gets a
/// <see cref="ResponseLimitExceededException"/> (or an <see cref="OutputUnavailableException"/> for a refused output),
/// carrying the prediction id when one is known, instead of unbounded memory or time.
/// </summary>
public sealed class LimitOptions
{
    /// <summary>The largest JSON response body read (submit answers, polls, errors) when no inline image is expected. Default 1 MiB.</summary>
    public long MaxJsonBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The largest image accepted, inline (base64, checked on the encoded length before decoding) or downloaded
    /// (checked on Content-Length and while streaming). A response that may carry inline images is allowed
    /// <see cref="MaxJsonBytes"/> plus the base64 length of one such image. Default 64 MiB.
    /// </summary>
    public long MaxImageBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The time one output download may take, redirects and body included. Default 2 minutes.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Redirects a download may follow (https only, never with credentials). API calls never follow redirects. Default 3.</summary>
    public int MaxDownloadRedirects { get; set; } = 3;

    /// <summary>
    /// Hosts whose output URLs are fetched even though they are private or plain http (a private CDN), e.g.
    /// <c>cdn.internal.example</c> or <c>10.0.4.7</c>. Otherwise outputs must be https on a public address; loopback
    /// outputs are allowed only when the API itself is on loopback (the emulator). Link-local and metadata addresses are
    /// never fetched unless listed here. With dependency injection, a download leaves without the <c>Authorization</c> and
    /// <c>Cookie</c> headers a handler or default header of the app's added, except to a host listed here.
    /// </summary>
    public IList<string> AllowedOutputHosts { get; private set; } = [];

    /// <summary>The limit for a response that may carry one inline image.</summary>
    internal long MaxInlineResponseBytes => checked(MaxJsonBytes + (((MaxImageBytes + 2) / 3) * 4));

    internal IEnumerable<string> Validate(string path)
    {
        if (MaxJsonBytes is < 1024 or > 1L << 30)
        {
            yield return $"{path}:MaxJsonBytes must be between 1024 and 2^30 (got {MaxJsonBytes}); a response is read into memory whole.";
        }

        if (MaxImageBytes < 1024 || MaxImageBytes > 1L << 40)
        {
            yield return $"{path}:MaxImageBytes must be between 1024 and 2^40 (got {MaxImageBytes}).";
        }

        if (DownloadTimeout <= TimeSpan.Zero || DownloadTimeout > RetryOptions.MaxSpan)
        {
            yield return $"{path}:DownloadTimeout must be positive and at most 1 day (got {DownloadTimeout}).";
        }

        if (MaxDownloadRedirects is < 0 or > 10)
        {
            yield return $"{path}:MaxDownloadRedirects must be between 0 and 10 (got {MaxDownloadRedirects}).";
        }

        foreach (var host in AllowedOutputHosts)
        {
            if (string.IsNullOrWhiteSpace(host) || Uri.CheckHostName(host) == UriHostNameType.Unknown)
            {
                yield return $"{path}:AllowedOutputHosts contains '{host}', which is not a host name or IP address.";
            }
        }
    }

    /// <summary>A copy that later changes to this object do not reach.</summary>
    internal LimitOptions Snapshot()
    {
        var copy = (LimitOptions)MemberwiseClone();
        copy.AllowedOutputHosts = [.. AllowedOutputHosts];
        return copy;
    }
}
