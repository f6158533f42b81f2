using Microsoft.Extensions.Logging;
using NanoBanana.Catalog;
using NanoBanana.Polling;
using NanoBanana.Protocol;

namespace NanoBanana;

/// <summary>What the attempt loop and the operations it creates need from the client: a narrow, internal view.</summary>
internal interface IAttemptHost
{
    NanoBananaOptions Options { get; }

    NanoBananaProtocolClient Protocol { get; }

    PredictionWaiter Waiter { get; }

    IPollSchedule DefaultSchedule { get; }

    ILogger Logger { get; }

    /// <summary>The model to send for a candidate: its successor when this client already moved that tier on.</summary>
    ImageModel CurrentModel(ImageModel candidate);

    /// <summary>Remembers that a tier moved to its successor id, for the rest of the client's life.</summary>
    void RememberSuccessor(ImageModel successor);
}
