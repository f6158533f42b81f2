using System.Net;

namespace NanoBanana.Protocol;

/// <summary>
/// What an error status to a submit says about whether the service got it. A gateway in front of the service answers
/// for it with codes of its own: Cloudflare's tell a service the gateway never reached (521 refused, 522 connection timed
/// out, 523 unreachable, 525 and 526 TLS to the service, 530 the service's DNS) from one that got the request and did not
/// answer in time or sensibly (520, 524: the job may exist and be billed). Every other 5xx but 503 (unavailable, which
/// both providers send for a job they did not take) may have followed an accepted submit.
/// </summary>
internal static class SubmitStatus
{
    /// <summary>Whether a gateway answered that it never reached the service: the submit surely was not accepted.</summary>
    public static bool ServiceNeverReached(HttpStatusCode? status) => (int?)status is 521 or 522 or 523 or 525 or 526 or 530;

    /// <summary>
    /// Whether the service refused a submit for a reason of its own, not the job's: overloaded (503 that is not a
    /// content-policy refusal), rate limited (429), unreachable before anything was sent, or never reached by a gateway.
    /// Nothing was accepted; another model, or a later run, may take the job. Bad requests, auth and balance errors are
    /// not retried elsewhere.
    /// </summary>
    public static bool NotAcceptedServiceSide(NanoBananaApiException ex) =>
        (ex is not ContentPolicyException && ex.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
        || ex.ErrorCode == NanoBananaErrorCodes.ConnectionFailed
        || ServiceNeverReached(ex.StatusCode);

    /// <summary>Whether the status leaves the submit's outcome unknown: a 5xx the service may have sent after taking the job.</summary>
    public static bool OutcomeUnknown(HttpStatusCode? status) =>
        status is { } s && (int)s is >= 500 and <= 599 && s != HttpStatusCode.ServiceUnavailable && !ServiceNeverReached(s);
}
