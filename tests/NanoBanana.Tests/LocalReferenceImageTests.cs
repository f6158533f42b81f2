using System.Net;
#if !TEST_ON_NET8
using NanoBanana.Cli;
#endif
using NanoBanana.Emulator;
using NanoBanana.Protocol;
#if !TEST_ON_NET8
using Spectre.Console;
#endif

namespace NanoBanana.Tests;

/// <summary>
/// Issue 12, local reference images: checked locally first (type by magic bytes, 20 MB), uploaded through WaveSpeedAI's
/// binary upload (over real loopback HTTP), refused with no request at all where no upload exists.
/// </summary>
public sealed class LocalReferenceImageTests : IDisposable
{
    private readonly TempFolder _folder = new("nanobanana-refs-");

    public void Dispose() => _folder.Dispose();

    private string WritePng(string name = "me.png", int size = 16)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllBytes(path, PngWriter.Gradient(size, size, (200, 30, 30), (30, 30, 200)));
        return path;
    }

    [Fact]
    public void An_http_url_stays_a_url_and_anything_else_is_a_file_relative_to_the_folder_given()
    {
        WritePng("rel.png");
        var url = ReferenceImage.FromUrlOrFile("https://cdn.example.com/a.png", ReferenceKind.Face);
        Assert.False(url.IsLocal);
        Assert.Equal(ReferenceKind.Face, url.Kind);
        var file = ReferenceImage.FromUrlOrFile("rel.png", ReferenceKind.Object, relativeTo: _folder.FullName);
        Assert.True(file.IsLocal);
        Assert.Equal("rel.png", file.FileName);
        Assert.Throws<FileNotFoundException>(() => ReferenceImage.FromUrlOrFile("ftp://example.com/a.png"));
    }

    [Fact]
    public void Local_images_are_checked_before_anything_is_sent()
    {
        var png = ReferenceImage.FromFile(WritePng(), ReferenceKind.Face);
        Assert.True(png.IsLocal);
        Assert.Null(png.Url);
        Assert.Equal("image/png", png.MediaType);
        Assert.Equal("me.png", png.FileName);
        Assert.Equal(ReferenceKind.Face, png.Kind);

        var text = Path.Combine(_folder.FullName, "notes.png");
        File.WriteAllText(text, "this is not a picture at all");
        Assert.Contains("not an image", Assert.Throws<ArgumentException>(() => ReferenceImage.FromFile(text)).Message);
        Assert.Throws<FileNotFoundException>(() => ReferenceImage.FromFile(Path.Combine(_folder.FullName, "missing.png")));
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "shots"));
        Assert.Equal( // it said "does not exist"
            $"Reference image file '{Path.Combine(_folder.FullName, "shots")}' is a folder; give the path of an image file in it. (Parameter 'path')",
            Assert.Throws<ArgumentException>(() => ReferenceImage.FromFile(Path.Combine(_folder.FullName, "shots"))).Message);
        var empty = Path.Combine(_folder.FullName, "empty.png");
        File.WriteAllBytes(empty, []);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => ReferenceImage.FromFile(empty)).Message);

        // Over 20 MB: refused from its length, without reading it.
        var huge = Path.Combine(_folder.FullName, "huge.png");
        using (var f = File.Create(huge))
        {
            f.Write(File.ReadAllBytes(WritePng("head.png")));
            f.SetLength(ReferenceImage.MaxLocalBytes + 1);
        }

        var tooBig = Assert.Throws<ArgumentException>(() => ReferenceImage.FromFile(huge));
        Assert.Contains("the limit is 20,971,520 bytes", tooBig.Message);

        var jpegBytes = new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 16, (byte)'J', (byte)'F', (byte)'I', (byte)'F' };
        Assert.Equal("image/jpeg", ReferenceImage.FromBytes(jpegBytes, "image/jpg").MediaType);
        Assert.Equal("image.jpg", ReferenceImage.FromBytes(jpegBytes, "image/jpeg").FileName);
        Assert.Contains("first bytes are those of image/jpeg", Assert.Throws<ArgumentException>(() => ReferenceImage.FromBytes(jpegBytes, "image/png")).Message);
        Assert.Equal("image/tiff", ReferenceImage.FromBytes(new byte[] { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0 }, "image/tiff").MediaType);
    }

    [Theory]
    [InlineData("say \"cheese\".png")]
    [InlineData("a\r\nX-Evil: 1.png")]
    [InlineData("tab\there.png")]
    public async Task A_file_name_no_header_can_carry_is_uploaded_under_a_safe_one(string name)
    {
        // .NET's header parser refused the quote ("The format of value … is invalid") and the line break (FormatException)
        // after the job had started: a raw error for a name that only labels the upload. Now such characters become '_'.
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        var bytes = File.ReadAllBytes(WritePng("any.png"));
        await client.EditAsync(new ImageJob("make it a watercolor") { ReferenceImages = [ReferenceImage.FromBytes(bytes, "image/png", ReferenceKind.Object, name)] });

        var (_, media) = Assert.Single(emulator.Uploads);
        Assert.Equal(bytes, media.Bytes);
        Assert.EndsWith(".png", media.FileName, StringComparison.Ordinal);
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task An_edit_from_a_local_png_uploads_then_submits_the_returned_url_on_WaveSpeed()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        var path = WritePng("portrait.png", 24);

        var result = await client.EditAsync(new ImageJob("make it a watercolor") { ReferenceImages = [ReferenceImage.FromFile(path, ReferenceKind.Face)] });

        Assert.NotEmpty(await result.Images[0].GetBytesAsync());
        var upload = Assert.Single(emulator.Requests, r => r.Kind == "upload");
        Assert.Equal("Bearer", upload.AuthorizationScheme);
        var (token, media) = Assert.Single(emulator.Uploads);
        Assert.Equal(File.ReadAllBytes(path), media.Bytes); // the bytes arrived whole
        Assert.Equal("portrait.png", media.FileName);
        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.EndsWith("/edit", submit.Path);
        Assert.Contains($"/media/{token}/portrait.png", submit.Body);
        Assert.True(upload.Time <= submit.Time);
        Assert.Equal(1, emulator.AcceptedSubmits);

        // The URL serves the same bytes back.
        using var http = new HttpClient();
        var url = emulator.BaseAddress + $"media/{token}/portrait.png";
        Assert.Equal(media.Bytes, await http.GetByteArrayAsync(url));
    }

    [Theory]
    [InlineData(ApiProvider.GptProto)]
    [InlineData(ApiProvider.GptProtoUnified)]
    public async Task GPT_Proto_without_an_uploader_refuses_a_local_image_with_no_request(ApiProvider provider)
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Provider = provider);
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.EditAsync(new ImageJob("x") { ReferenceImages = [ReferenceImage.FromFile(WritePng())] }));
        Assert.Contains("documents no upload endpoint", ex.Message);
        Assert.Contains("ReferenceImageUploader", ex.Message);
        Assert.Contains("me.png", ex.Message);
        Assert.Empty(emulator.Requests);
    }

    [Fact]
    public async Task A_configured_uploader_serves_GPT_Proto_and_gets_only_local_images()
    {
        await using var emulator = await Emu.StartAsync();
        var uploader = new RecordingUploader();
        using var client = Emu.Client(emulator, o => o.ReferenceImageUploader = uploader);
        var result = await client.EditAsync(new ImageJob("x")
        {
            ReferenceImages = [ReferenceImage.Other("https://cdn.example.com/a.png"), ReferenceImage.FromFile(WritePng(), ReferenceKind.Object)],
        });
        Assert.NotNull(result.PredictionId);
        var uploaded = Assert.Single(uploader.Seen);
        Assert.Equal("me.png", uploaded.FileName);
        var submit = Assert.Single(emulator.Requests, r => r.Kind == "submit");
        Assert.Contains("https://cdn.example.com/a.png", submit.Body);
        Assert.Contains("https://storage.example.com/u/me.png", submit.Body);
        Assert.DoesNotContain(emulator.Requests, r => r.Kind == "upload");
    }

    [Fact]
    public async Task A_refused_upload_fails_before_the_submit_and_a_transient_one_is_retried()
    {
        await using var emulator = await Emu.StartAsync(o => o.ApiKey = Emu.Key);
        using var wrongKey = Emu.Client(emulator, o => { o.Provider = ApiProvider.WaveSpeed; o.ApiKey = "sk-wrong-0000000000000"; });
        var ex = await Assert.ThrowsAsync<NanoBananaApiException>(() => wrongKey.EditAsync(new ImageJob("x") { ReferenceImages = [ReferenceImage.FromFile(WritePng())] }));
        Assert.Equal(NanoBananaErrorCodes.UploadFailed, ex.ErrorCode);
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Contains("Nothing was submitted", ex.Message);
        Assert.DoesNotContain(emulator.Requests, r => r.Kind == "submit");

        // A 503 on the upload is retried (uploads are free); the job then runs.
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        emulator.EnqueueReply(new EmulatorReply(503, """{"code":503,"message":"busy"}""") { AcceptsJob = false }, FaultTarget.Upload);
        var result = await client.EditAsync(new ImageJob("x") { ReferenceImages = [ReferenceImage.FromFile(WritePng())], AllowFallback = false });
        Assert.NotNull(result.PredictionId);
        Assert.Equal(3, emulator.Count("upload")); // the refused one above, the 503, the retry
        Assert.Equal([401, 503, 200], emulator.Requests.Where(r => r.Kind == "upload").Select(r => r.StatusCode));
        Assert.Equal(1, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task The_emulator_refuses_an_upload_url_it_never_issued()
    {
        await using var emulator = await Emu.StartAsync();
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        var forged = emulator.BaseAddress + "media/0123456789abcdef01234567/x.png";
        var ex = await Assert.ThrowsAnyAsync<NanoBananaApiException>(() => client.EditAsync(new ImageJob("x") { ReferenceImages = [ReferenceImage.Other(forged)], AllowFallback = false }));
        Assert.Contains("could not be fetched", ex.Message);
        Assert.Equal(0, emulator.AcceptedSubmits);
    }

    [Fact]
    public async Task The_emulator_keeps_uploads_within_its_retention_bound_and_refuses_a_dropped_one()
    {
        // A long-running emulator must not hold every upload for its life: past the bound the oldest go, as a service's
        // uploads expire, and a job that names one is refused as unfetchable (nothing accepted, nothing billed).
        var pngs = Enumerable.Range(0, 3).Select(i => File.ReadAllBytes(WritePng($"p{i}.png", 40 + i))).ToArray();
        await using var emulator = await Emu.StartAsync(o => o.MaxUploadRetentionBytes = pngs[1].Length + pngs[2].Length);
        using var client = Emu.Client(emulator, o => o.Provider = ApiProvider.WaveSpeed);
        var urls = new List<Uri>();
        foreach (var png in pngs)
        {
            urls.Add(await client.Protocol.UploadAsync(png, "p.png", "image/png"));
        }

        Assert.Equal(2, emulator.Uploads.Count);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(urls[0])).StatusCode);
        Assert.Equal(pngs[1], await http.GetByteArrayAsync(urls[1]));
        Assert.Equal(pngs[2], await http.GetByteArrayAsync(urls[2]));

        var ex = await Assert.ThrowsAnyAsync<NanoBananaApiException>(() => client.EditAsync(new ImageJob("x") { ReferenceImages = [ReferenceImage.Other(urls[0].AbsoluteUri)], AllowFallback = false }));
        Assert.Contains("could not be fetched", ex.Message);
        Assert.Equal(0, emulator.AcceptedSubmits);

        // The newest upload is kept even when it alone is over the bound: it was just promised to the caller.
        await using var tiny = await Emu.StartAsync(o => o.MaxUploadRetentionBytes = 1);
        using var tinyClient = Emu.Client(tiny, o => o.Provider = ApiProvider.WaveSpeed);
        var kept = await tinyClient.Protocol.UploadAsync(pngs[0], "p.png", "image/png");
        Assert.Equal(pngs[0], await http.GetByteArrayAsync(kept));
    }

#if !TEST_ON_NET8 // the CLI targets .NET 10 only
    [Fact]
    public async Task The_cli_edits_a_local_file()
    {
        await using var emulator = await Emu.StartAsync();
        var outDir = Path.Combine(_folder.FullName, "out");
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
        console.Profile.Width = 300;
        var path = WritePng();
        var code = await CliApp.RunAsync(["generate", "make it a watercolor", "--image", "face:" + path, "--provider", "WaveSpeed", "--out", outDir, "--base-url", emulator.ApiBaseUrl.ToString(), "--api-key", Emu.Key, "--emulator-time-scale", "0.001"], console);
        Assert.True(code == 0, writer.ToString());
        Assert.Single(Directory.GetFiles(outDir, "*.png"));
        Assert.Single(emulator.Uploads);

        var (console2, output2) = (AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer = new StringWriter()), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No }), writer);
        console2.Profile.Width = 300;
        Assert.Equal(CliApp.UsageExitCode, await CliApp.RunAsync(["generate", "x", "--image", Path.Combine(_folder.FullName, "nope.png"), "--base-url", emulator.ApiBaseUrl.ToString(), "--api-key", Emu.Key], console2));
        Assert.Contains("does not exist", output2.ToString());
    }
#endif

    [Fact]
    public async Task The_jobs_deadline_bounds_its_uploads_and_nothing_is_submitted_when_they_overrun()
    {
        await using var emulator = await Emu.StartAsync();
        var time = new ManualTimeProvider();
        using var client = Emu.Client(emulator, o => o.ReferenceImageUploader = new HangingUploader(), time: time);
        var job = new ImageJob("x") { Deadline = TimeSpan.FromSeconds(30), ReferenceImages = [ReferenceImage.FromFile(WritePng())] };
        var running = client.EditAsync(job);
        while (time.PendingTimers == 0)
        {
            await Task.Delay(5); // the deadline's timer is armed
        }

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(running.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        var timeout = await Assert.ThrowsAsync<PredictionTimeoutException>(() => running);
        Assert.Contains("deadline", timeout.Message, StringComparison.Ordinal);
        Assert.Null(timeout.PredictionId);
        Assert.DoesNotContain(emulator.Requests, r => r.Kind == "submit");
    }

    private sealed class HangingUploader : IReferenceImageUploader
    {
        public async Task<Uri> UploadAsync(ReferenceImage image, CancellationToken cancellationToken = default)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    private sealed class RecordingUploader : IReferenceImageUploader
    {
        public List<ReferenceImage> Seen { get; } = [];

        public async Task<Uri> UploadAsync(ReferenceImage image, CancellationToken cancellationToken = default)
        {
            var bytes = await image.ReadAsync(cancellationToken);
            Assert.Equal("image/png", OutputDecoder.SniffMediaType(bytes.Span));
            Seen.Add(image);
            return new Uri("https://storage.example.com/u/" + image.FileName);
        }
    }
}
