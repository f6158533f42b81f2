using System.Text;
using BenchmarkDotNet.Attributes;
using NanoBanana.Protocol;

namespace NanoBanana.Benchmarks;

/// <summary>Envelope parsing: submit answer, a poll while processing, a completed poll with a URL output.</summary>
[MemoryDiagnoser]
[MedianColumn]
public class ParsingBenchmarks
{
    private readonly byte[] _submit = Encoding.UTF8.GetBytes("""{"code":200,"message":"success","data":{"id":"2b9a360d9","model":"google/gemini-3-pro-image-preview","outputs":[],"urls":{"get":"https://gptproto.com/api/v3/predictions/2b9a360d9/result"},"status":"created","error":null,"executionTime":0,"timings":{"inference":0},"has_nsfw_contents":[],"created_at":"2025-12-23 16:10:16"}}""");
    private readonly byte[] _processing = Encoding.UTF8.GetBytes("""{"code":200,"message":"success","data":{"id":"2b9a360d9","model":"google/gemini-3-pro-image-preview","outputs":[],"urls":{"get":"https://gptproto.com/api/v3/predictions/2b9a360d9/result"},"status":"processing","error":"","executionTime":0,"timings":{"inference":0},"has_nsfw_contents":null,"created_at":"2025-11-07T02:35:15.34950574Z"}}""");
    private readonly byte[] _completed = Encoding.UTF8.GetBytes("""{"code":200,"message":"success","data":{"id":"2b9a360d9","model":"google/gemini-3-pro-image-preview","outputs":["https://cdn.example.com/outputs/2b9a360d9/0.png"],"urls":{"get":"https://gptproto.com/api/v3/predictions/2b9a360d9/result"},"status":"completed","error":null,"executionTime":14211.5,"timings":{"inference":14002},"has_nsfw_contents":[false],"created_at":"2025-12-23 16:10:16"}}""");

    [Benchmark(Baseline = true)]
    public Prediction Submit() => WireParser.ParsePrediction(_submit);

    [Benchmark]
    public Prediction Processing() => WireParser.ParsePrediction(_processing);

    [Benchmark]
    public Prediction CompletedWithOutput() => WireParser.ParsePrediction(_completed);
}
