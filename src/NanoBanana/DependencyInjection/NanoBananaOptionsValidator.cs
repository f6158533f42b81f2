using Microsoft.Extensions.Options;

namespace NanoBanana.DependencyInjection;

/// <summary>
/// Validates one registration's <see cref="NanoBananaOptions"/> at startup with messages naming the key and what is
/// allowed. A client bound to a section is named by that section's path (<c>Providers:WaveSpeed:ApiKey</c>, as the
/// unknown-key check names it); a keyed client configured in code by its key.
/// </summary>
internal sealed class NanoBananaOptionsValidator(string name, string? sectionPath) : IValidateOptions<NanoBananaOptions>
{
    /// <summary>The registration this validator checks.</summary>
    public string Name { get; } = name;

    public ValidateOptionsResult Validate(string? optionsName, NanoBananaOptions options)
    {
        if (!string.Equals(optionsName ?? Options.DefaultName, Name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = options.Validate().Select(Locate).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    // The messages already name a bound client's section (NanoBananaOptions.SettingsPath, set by AddNanoBanana); a keyed
    // client configured in code is named by its key.
    private string Locate(string error) => sectionPath is { Length: > 0 } || Name.Length == 0 ? error : $"{error} (keyed client '{Name}')";
}
