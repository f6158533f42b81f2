namespace NanoBanana;

/// <summary>
/// Puts a local reference image (<see cref="ReferenceImage.FromFile"/>, <see cref="ReferenceImage.FromBytes"/>)
/// where the provider can fetch it, and returns that URL. The client calls it before the submit, once per local image
/// of a job. With <see cref="ApiProvider.WaveSpeed"/> the SDK uses WaveSpeedAI's upload endpoint when none is set; GPT
/// Proto documents no upload, so there a local image needs an uploader of your own (for example one that writes to
/// your blob storage and returns a time-limited https URL), or it is refused before anything is sent.
/// </summary>
public interface IReferenceImageUploader
{
    /// <summary>Uploads a local image and returns an absolute http(s) URL the provider can fetch.</summary>
    /// <param name="image">A local image (<see cref="ReferenceImage.IsLocal"/>); read it with <see cref="ReferenceImage.ReadAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    Task<Uri> UploadAsync(ReferenceImage image, CancellationToken cancellationToken = default);
}
