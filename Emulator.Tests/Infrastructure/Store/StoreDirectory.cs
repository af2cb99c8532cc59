using System.Reflection;
using Fanfare.Emulator.Infrastructure.Store;

namespace Fanfare.Emulator.Tests.Infrastructure.Store;

/// <summary>A temp data directory for store tests, and copies of its files taken while a store has it open: what a
/// process killed with SIGKILL leaves on disk (LiteDB's data file and log as they are), to reopen with a second store.</summary>
internal sealed class StoreDirectory(string prefix) : IDisposable
{
    /// <summary>The document types of the tests (<see cref="ProbeDocument"/>) and of the emulator.</summary>
    private static readonly Assembly[] Assemblies = [typeof(ProbeDocument).Assembly, typeof(DocumentStore).Assembly];

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + System.IO.Path.GetRandomFileName());
    private int _copies;

    /// <summary>A file-backed store on this directory (or on <paramref name="dir"/>, e.g. a crash copy).</summary>
    public DocumentStore Open(string? dir = null) => DocumentStore.Open(false, dir ?? Path, Assemblies);

    /// <summary>A store in LiteDB's in-memory mode (no files).</summary>
    public static DocumentStore OpenInMemory() => DocumentStore.Open(true, "", Assemblies);

    /// <summary>Copies the files as they are now into a new directory and returns it.</summary>
    public string CrashCopy()
    {
        var copy = Directory.CreateDirectory(Path + "-crash" + ++_copies).FullName;
        foreach (var f in Directory.GetFiles(Path)) File.Copy(f, System.IO.Path.Combine(copy, System.IO.Path.GetFileName(f)));
        return copy;
    }

    public void Dispose()
    {
        foreach (var dir in new[] { Path }.Concat(Enumerable.Range(1, _copies).Select(i => Path + "-crash" + i)))
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
