using System;
using System.IO;

namespace ModelGen.IO;

/// <summary>Writes a file so that a failure never leaves a half-written one: to a temporary file in the same folder,
/// flushed to disk, then renamed over the target. Errors name the target, never the temporary file.</summary>
internal static class AtomicFile
{
    public static void Write(string path, string what, Action<FileStream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"cannot {what} {full}: it is a directory", nameof(path));
        string tmp = full + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            string dir = Path.GetDirectoryName(full) ?? full;
            string why = e switch
            {
                DirectoryNotFoundException => $"the folder {dir} does not exist",
                UnauthorizedAccessException => $"no permission to write in {dir}",
                _ => e.Message.Replace(tmp, full, StringComparison.Ordinal),
            };
            string message = $"cannot {what} {full}: {why}; nothing was written";
            throw e switch
            {
                DirectoryNotFoundException => new DirectoryNotFoundException(message, e),
                UnauthorizedAccessException => new UnauthorizedAccessException(message, e),
                _ => new IOException(message, e),
            };
        }
    }
}
