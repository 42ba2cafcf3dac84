using System.Security.Cryptography;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>Scratch directories for the servers' data, sockets and logs.</summary>
internal static class TestDirectory
{
    // Kept short: a unix socket path must fit in 108 bytes.
    public static string Create(string kind)
    {
        var path = Path.Combine(Path.GetTempPath(), $"crtest-{kind}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}");
        Directory.CreateDirectory(path);

        // Covers the window before a server process (and its own watchdog) exists, e.g. a
        // test host killed while copying the MariaDB template.
        ServerProcess.DeleteWhenTestHostExits(path);
        return path;
    }

    public static async Task DeleteAsync(string path)
    {
        // A server killed a moment ago may still be closing files; give it a few tries.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>The last lines of a log, for error messages; empty if the file does not exist.</summary>
    public static string Tail(string path, int lines = 40)
    {
        if (!File.Exists(path))
        {
            return $"({path} does not exist)";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var tail = new Queue<string>(lines);
        while (reader.ReadLine() is { } line)
        {
            if (tail.Count == lines)
            {
                tail.Dequeue();
            }

            tail.Enqueue(line);
        }

        return string.Join(Environment.NewLine, tail);
    }
}
