using Microsoft.Extensions.Options;

namespace NanoBanana.DependencyInjection;

/// <summary>Validates <see cref="NanoBananaOptions"/> at startup with messages naming the key and what is allowed.</summary>
internal sealed class NanoBananaOptionsValidator : IValidateOptions<NanoBananaOptions>
{
    public ValidateOptionsResult Validate(string? name, NanoBananaOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
