using System.Runtime.InteropServices;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// The few POSIX calls .NET does not expose: sending arbitrary signals (SIGSTOP/SIGCONT/SIGTERM)
/// and asking whether we run as root. Signal numbers are Linux's; the servers come from apt, so
/// the fixtures only target Linux.
/// </summary>
internal static partial class Libc
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserIdNative();

    public static bool IsRoot => GetEffectiveUserIdNative() == 0;

    public static void SendSignal(int pid, int signal)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The test servers are only supported on Linux.");
        }

        if (KillNative(pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException(
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"kill({pid}, {signal}) failed with errno {errno}."));
        }
    }
}
