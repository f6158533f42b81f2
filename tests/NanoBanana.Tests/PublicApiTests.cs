using System.Reflection;
using System.Text;

namespace NanoBanana.Tests;

/// <summary>
/// The public API of each package, listed in <c>docs/api/&lt;assembly&gt;.txt</c> (issue 11). A change to the surface
/// fails this test until the listing is regenerated and the diff reviewed:
/// <c>NB_WRITE_API=1 dotnet test NanoBanana.sln --filter FullyQualifiedName~PublicApiTests</c>.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Packages() => ["NanoBanana", "NanoBanana.Extensions.AI", "NanoBanana.Emulator", "NanoBanana.Journal.Sqlite", "NanoBanana.Journal.PostgreSql"];

    [Theory]
    [MemberData(nameof(Packages))]
    public void The_public_api_matches_its_reviewed_listing(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName);
        var listing = Listing(assembly);
        var path = Path.Combine(ArchitectureTests.RepoRoot(), "docs", "api", assemblyName + ".txt");
        if (Environment.GetEnvironmentVariable("NB_WRITE_API") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, listing);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing; create it with NB_WRITE_API=1");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        var added = listing.Split('\n').Except(expected.Split('\n')).ToArray();
        var removed = expected.Split('\n').Except(listing.Split('\n')).ToArray();
        Assert.True(added.Length == 0 && removed.Length == 0,
            $"The public API of {assemblyName} changed. Review, then regenerate docs/api with NB_WRITE_API=1.\n" +
            string.Join("\n", added.Select(a => "+ " + a).Concat(removed.Select(r => "- " + r))));
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void Every_public_async_method_takes_a_cancellation_token(string assemblyName)
    {
        // The house rule: every async API takes a CancellationToken (and passes it on). DisposeAsync is the one shape
        // that cannot, by its interface.
        var async = (from type in Assembly.Load(assemblyName).GetExportedTypes()
                     from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                     where (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly) && !method.IsSpecialName && IsAsync(method.ReturnType)
                     where method.Name != nameof(IAsyncDisposable.DisposeAsync)
                     select (Type: type, Method: method)).ToArray();
        Assert.NotEmpty(async); // every package has async methods: the check is never vacuous
        var missing = async.Where(m => !m.Method.GetParameters().Any(p => p.ParameterType == typeof(CancellationToken)))
            .Select(m => $"{m.Type.FullName}.{m.Method.Name}({string.Join(", ", m.Method.GetParameters().Select(p => p.ParameterType.Name))})").ToArray();
        Assert.True(missing.Length == 0, "Async methods without a CancellationToken:\n" + string.Join("\n", missing));
    }

    private static bool IsAsync(Type type) =>
        type == typeof(Task) || type == typeof(ValueTask) ||
        (type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Task<>) || d == typeof(ValueTask<>) || d == typeof(IAsyncEnumerable<>)));

    internal static string Listing(Assembly assembly)
    {
        var sb = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            sb.Append(Kind(type)).Append(' ').Append(Name(type));
            var bases = new List<Type>();
            if (type.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) && !type.IsEnum)
            {
                bases.Add(b);
            }

            bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).OrderBy(i => i.FullName, StringComparer.Ordinal));
            sb.Append(bases.Count == 0 ? "" : " : " + string.Join(", ", bases.Select(Name))).Append('\n');
            const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(flags)
                .Where(m => Visible(m) && !(m is MethodInfo { IsSpecialName: true }) && m is not Type)
                .Select(m => "  " + Member(type, m))
                .Where(line => !line.Contains("<Clone>$", StringComparison.Ordinal) && !line.Contains("EqualityContract", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal);
            foreach (var line in members)
            {
                sb.Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static bool Visible(MemberInfo m) => m switch
    {
        MethodBase mb => mb.IsPublic || mb.IsFamily || mb.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
        EventInfo e => e.AddMethod is { } add && (add.IsPublic || add.IsFamily),
        _ => false,
    };

    private static string Member(Type owner, MemberInfo m) => m switch
    {
        ConstructorInfo c => $"{(c.IsStatic ? "static " : "")}{(c.IsFamily ? "protected " : "")}.ctor({Parameters(c)})",
        MethodInfo mi => $"{(mi.IsStatic ? "static " : "")}{(mi.IsFamily ? "protected " : "")}{(mi.IsAbstract && !owner.IsInterface ? "abstract " : mi.IsVirtual && !mi.IsFinal && !owner.IsInterface ? "virtual " : "")}{Name(mi.ReturnType)} {mi.Name}{Generic(mi)}({Parameters(mi)})",
        PropertyInfo p => $"{(p.GetAccessors(true)[0].IsStatic ? "static " : "")}{Name(p.PropertyType)} {p.Name}{(p.GetIndexParameters().Length > 0 ? "[" + string.Join(", ", p.GetIndexParameters().Select(i => Name(i.ParameterType))) + "]" : "")} {{ {Accessors(p)}}}",
        FieldInfo f => owner.IsEnum ? $"{f.Name}" : $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{Name(f.FieldType)} {f.Name}",
        EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
        _ => m.Name,
    };

    private static string Accessors(PropertyInfo p)
    {
        var sb = new StringBuilder();
        if (p.GetMethod is { } g && (g.IsPublic || g.IsFamily))
        {
            sb.Append("get; ");
        }

        if (p.SetMethod is { } s && (s.IsPublic || s.IsFamily))
        {
            var init = s.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit");
            sb.Append(init ? "init; " : "set; ");
        }

        return sb.ToString();
    }

    private static string Generic(MethodInfo m) => m.IsGenericMethod ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p =>
        (p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : "") + Name(p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType)
        + " " + p.Name + (p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : "")));

    private static string Kind(Type t) =>
        t.IsInterface ? "interface" : t.IsEnum ? "enum" : t.IsValueType ? "struct" : typeof(Delegate).IsAssignableFrom(t) ? "delegate"
        : t.IsAbstract && t.IsSealed ? "static class" : t.IsSealed ? "sealed class" : t.IsAbstract ? "abstract class" : "class";

    private static string Name(Type t)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner)
        {
            return Name(inner) + "?";
        }

        if (t.IsArray)
        {
            return Name(t.GetElementType()!) + "[]";
        }

        if (t.IsGenericParameter)
        {
            return t.Name;
        }

        var name = t.IsNested ? Name(t.DeclaringType!) + "." + t.Name : (t.Namespace is null ? "" : t.Namespace + ".") + t.Name;
        if (!t.IsGenericType)
        {
            return name;
        }

        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? name : name[..tick]) + "<" + string.Join(", ", t.GetGenericArguments().Select(Name)) + ">";
    }
}
