namespace NanoBanana;

/// <summary>Which /api/v3 service the client talks to.</summary>
public enum ApiProvider
{
    /// <summary>GPT Proto (<c>https://gptproto.com/api/v3/</c>), the default.</summary>
    GptProto,

    /// <summary>WaveSpeedAI (<c>https://api.wavespeed.ai/api/v3/</c>).</summary>
    WaveSpeed,

    /// <summary>
    /// GPT Proto's unified media API (<c>https://gptproto.com/api/v3/</c>): one submit route, <c>POST images</c> with
    /// the model in the body (202 and a polling URL), polled at <c>tasks/result/{id}</c>, outputs in
    /// <c>unsigned_urls</c>, Bearer auth. No sync mode, base64 output or webhooks.
    /// </summary>
    GptProtoUnified,
}
