using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NanoBanana.Protocol;

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
