using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using NanoBanana.Catalog;
using NanoBanana.Polling;

namespace NanoBanana.DependencyInjection;

/// <summary>
/// Fails startup on a key under the <c>NanoBanana</c> section that no setting reads (<c>Dedline</c>), naming it and the
/// nearest known key: the binder would otherwise ignore it silently and the default would apply.
/// </summary>
internal sealed class ConfigurationKeyCheck(string name, IConfiguration section) : IValidateOptions<NanoBananaOptions>
{
    private static readonly Dictionary<string, Shape> Root = Shape.Of(typeof(NanoBananaOptions), new()
    {
        ["Catalog"] = Shape.Object(new()
        {
            ["Models"] = Shape.Map(Shape.Object(Shape.Of(typeof(ModelOverrideOptions), new()
            {
                ["Prices"] = Shape.Map(Shape.Leaf),
                ["Sizes"] = Shape.Map(Shape.Leaf),
                ["AspectRatios"] = Shape.Map(Shape.Leaf),
                ["Aliases"] = Shape.Map(Shape.Leaf),
            }))),
            ["Disabled"] = Shape.Map(Shape.Leaf),
        }),
        ["Polling"] = Shape.Object(Shape.Of(typeof(PollingOptions), [])),
        ["Retry"] = Shape.Object(Shape.Of(typeof(RetryOptions), [])),
        ["Limits"] = Shape.Object(Shape.Of(typeof(LimitOptions), new() { ["AllowedOutputHosts"] = Shape.Map(Shape.Leaf) })),
        ["StatusAliases"] = Shape.Map(Shape.Leaf),
    });

    public ValidateOptionsResult Validate(string? optionsName, NanoBananaOptions options)
    {
        if (!string.Equals(optionsName ?? Options.DefaultName, name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        Check(section, Root, section is IConfigurationSection s ? s.Path : NanoBananaOptions.SectionName, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(IConfiguration node, Dictionary<string, Shape> known, string path, List<string> errors)
    {
        foreach (var child in node.GetChildren())
        {
            if (!known.TryGetValue(child.Key, out var shape))
            {
                var nearest = known.Keys.Select(k => (Key: k, Distance: Distance(k, child.Key))).MinBy(x => x.Distance);
                errors.Add($"{path}:{child.Key} is not a setting{(nearest.Distance <= 2 ? $" (did you mean {path}:{nearest.Key}?)" : "")}; it would be ignored.");
                continue;
            }

            if (shape.Children is { } children)
            {
                Check(child, children, $"{path}:{child.Key}", errors);
            }
            else if (shape.Each is { } each)
            {
                foreach (var item in child.GetChildren())
                {
                    if (each.Children is { } itemChildren)
                    {
                        Check(item, itemChildren, $"{path}:{child.Key}:{item.Key}", errors);
                    }
                }
            }
        }
    }

    private static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }

    // What a configuration node may hold: named settings (Children), any keys each shaped alike (Each), or a value.
    private sealed record Shape(Dictionary<string, Shape>? Children, Shape? Each)
    {
        public static readonly Shape Leaf = new(null, null);

        public static Shape Object(Dictionary<string, Shape> children) => new(children, null);

        public static Shape Map(Shape each) => new(null, each);

        // The public settable (or bindable get-only) properties of an options type, as leaves unless overridden.
        public static Dictionary<string, Shape> Of([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type type, Dictionary<string, Shape> overrides)
        {
            var shapes = new Dictionary<string, Shape>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.PropertyType == typeof(IReferenceImageUploader) || property.Name.StartsWith("Effective", StringComparison.Ordinal))
                {
                    continue; // a service, or a computed value: not configuration
                }

                shapes[property.Name] = Leaf;
            }

            foreach (var (key, shape) in overrides)
            {
                shapes[key] = shape;
            }

            return shapes;
        }
    }
}
