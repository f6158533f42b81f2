namespace NanoBanana.Emulator;

/// <summary>How output URLs are written in answers.</summary>
public enum OutputUrlForm
{
    /// <summary>Absolute: <c>http://127.0.0.1:5080/outputs/{id}/0.png</c>.</summary>
    Absolute,

    /// <summary>From the root of the service's origin: <c>/outputs/{id}/0.png</c>, as a relay serving its own files may send.</summary>
    RootRelative,

    /// <summary>From the scheme: <c>//127.0.0.1:5080/outputs/{id}/0.png</c>, as some CDNs write links.</summary>
    SchemeRelative,
}
