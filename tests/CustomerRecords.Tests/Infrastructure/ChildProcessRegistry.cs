using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// Every server process the fixtures start, so that none outlives the test run: a test that
/// throws before disposing, or a runner that exits without disposing fixtures, still ends them.
/// </summary>
internal static class ChildProcessRegistry
{
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    static ChildProcessRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static void Add(Process process) => Running[process.Id] = process;

    public static void Remove(Process process) => Running.TryRemove(process.Id, out _);

    private static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            try
            {
                // SIGKILL also ends a SIGSTOPped process, so paused servers need no SIGCONT here.
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            catch (Win32Exception)
            {
                // Already gone, or not ours any more; nothing more can be done at exit.
            }
        }
    }
}
