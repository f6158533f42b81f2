namespace NanoBanana.Diagnostics;

/// <summary>
/// Where a whole-file write (a temporary file beside the target, then renamed over it) may land. The rename replaces
/// whatever is at the path: run as root, a completion-times file configured as <c>/dev/null</c> replaced the device
/// with a regular file, and every later <c>&gt; /dev/null</c> on the machine failed.
/// </summary>
internal static class ReplaceableFile
{
    private static readonly string[] SystemTrees = ["/dev/", "/proc/", "/sys/"];

    /// <summary>
    /// The path to write to for <paramref name="path"/>: a symbolic link is followed to its final target (replacing
    /// the link would cut it from the file it names). A folder, or a path in a tree of devices and kernel files
    /// (<c>/dev</c>, <c>/proc</c>, <c>/sys</c> on Unix, before or after following links), is an <see cref="IOException"/>
    /// that names it.
    /// </summary>
    public static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        var target = info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } final ? final.FullName : full;
        if (!OperatingSystem.IsWindows()
            && SystemTrees.FirstOrDefault(t => full.StartsWith(t, StringComparison.Ordinal) || target.StartsWith(t, StringComparison.Ordinal)) is { } tree)
        {
            throw new IOException($"'{path}' is under {tree.TrimEnd('/')}, a tree of devices and kernel files; give the path of a regular file (it would be replaced whole).");
        }

        if (Directory.Exists(target))
        {
            throw new IOException($"'{path}' is a folder; give the path of a file in it.");
        }

        return target;
    }
}
