using System.Runtime.InteropServices;

namespace Nursery.Launch;

/// <summary>
/// Waits for the programs <see cref="PosixSpawn"/> started and reaps them: one thread in <c>epoll_wait</c> over a pidfd
/// per program, which becomes readable when the program exits. Each is reaped by its own pid, never with
/// <c>waitpid(-1)</c>, so the children of <see cref="System.Diagnostics.Process"/> stay the runtime's to reap.
/// </summary>
/// <remarks>
/// Before a program is reaped, while it is a zombie and so its pid (and its group's id) cannot be given to another
/// process, <c>beforeReap</c> runs on this thread: the group's leftovers can be killed by group id then without the
/// risk of reaching a stranger. If the exit status was taken by someone else (the runtime reaps every child when this
/// process was started with SIGCHLD ignored), the exit is reported as -1.
/// </remarks>
internal static unsafe partial class ExitWatcher
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<long, Watch> Watches = [];
    private static int _epoll = -1;
    private static long _lastKey;

    private sealed record Watch(int ProcessId, Action BeforeReap, TaskCompletionSource<int> Status)
    {
        public int Pidfd { get; set; } = -1;
    }

    /// <summary>
    /// Completes with the program's exit status as .NET reports it (the code, or 128 + n for signal n) once it has
    /// exited and been reaped; <paramref name="beforeReap"/> runs first. Never faults.
    /// </summary>
    public static Task<int> WatchAsync(int processId, Action beforeReap)
    {
        var watch = new Watch(processId, beforeReap, new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));
        var pidfd = OpenPidfd(processId);
        if (pidfd < 0 || !Add(pidfd, watch))
        {
            if (pidfd >= 0)
                _ = PosixSpawn.close(pidfd);
            // No pidfd or no epoll (out of descriptors): a thread of its own waits for this one.
            new Thread(() => WaitAlone(watch)) { IsBackground = true, Name = "Nursery exit watcher (one program)" }.Start();
        }
        return watch.Status.Task;
    }

    /// <remarks>
    /// The event's key is a number of the watch's own, not the pidfd: a program spawned at the same moment on another
    /// thread holds a copy of every descriptor until its exec, so a closed pidfd may still be in the epoll set for a
    /// while, and its number may already be another watch's.
    /// </remarks>
    private static bool Add(int pidfd, Watch watch)
    {
        long key;
        lock (Gate)
        {
            if (_epoll < 0)
            {
                _epoll = epoll_create1(PosixSpawn.CloseOnExec);
                if (_epoll < 0)
                    return false;
                new Thread(Run) { IsBackground = true, Name = "Nursery exit watcher" }.Start();
            }
            key = ++_lastKey;
            watch.Pidfd = pidfd;
            Watches[key] = watch;
        }
        var wanted = stackalloc byte[EventBytes];
        *(uint*)wanted = EpollIn;
        *(ulong*)(wanted + DataOffset) = (ulong)key;
        if (epoll_ctl(_epoll, EpollCtlAdd, pidfd, wanted) == 0)
            return true;
        lock (Gate)
            _ = Watches.Remove(key);
        return false;
    }

    /// <summary>A pidfd for <paramref name="processId"/>, close-on-exec; negative on failure.</summary>
    internal static int OpenPidfd(int processId) => (int)syscall(PidfdOpenCall, processId, 0);

    private static void Run()
    {
        const int Capacity = 64;
        var events = stackalloc byte[Capacity * EventBytes];
        while (true)
        {
            var count = epoll_wait(_epoll, events, Capacity, -1);
            for (var i = 0; i < count; i++)
            {
                var key = (long)*(ulong*)(events + (i * EventBytes) + DataOffset);
                Watch? watch;
                lock (Gate)
                {
                    if (!Watches.Remove(key, out watch))
                        continue;
                }
                // Out of the set before the close: a copy of the descriptor in a program not yet past its exec would keep it in.
                _ = epoll_ctl(_epoll, EpollCtlDelete, watch.Pidfd, null);
                Reap(watch.Pidfd, watch);
            }
        }
    }

    private static void WaitAlone(Watch watch)
    {
        var information = stackalloc byte[SignalInformationBytes];
        while (waitid(PidType, watch.ProcessId, information, Exited | NoWait) != 0 && Marshal.GetLastPInvokeError() == Eintr)
        {
            // Interrupted: wait again.
        }
        Reap(-1, watch);
    }

    private static void Reap(int pidfd, Watch watch)
    {
        try
        {
            watch.BeforeReap();
        }
        catch (Exception exception)
        {
            // A bug in the caller's step must not cost the exit status nor this thread.
            System.Diagnostics.Debug.Fail(exception.ToString());
        }
        if (pidfd >= 0)
            _ = PosixSpawn.close(pidfd);
        int status;
        int reaped;
        do
        {
            reaped = waitpid(watch.ProcessId, &status, 0);
        }
        while (reaped < 0 && Marshal.GetLastPInvokeError() == Eintr);
        watch.Status.SetResult(reaped != watch.ProcessId ? -1 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
    }

    /// <summary>struct epoll_event: packed (12 bytes) on x86-64, naturally aligned (16) elsewhere.</summary>
    private static readonly int EventBytes = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private const int PidType = 1;
    private const int Exited = 4;
    private const int NoWait = 0x01000000;

    /// <summary>Room for a siginfo_t (128 bytes).</summary>
    private const int SignalInformationBytes = 128;

    private const uint EpollIn = 1;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDelete = 2;
    private const int Eintr = 4;

    /// <summary>pidfd_open's number, the same on every Linux architecture (5.3 and later).</summary>
    private const long PidfdOpenCall = 434;

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long first, long second);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epoll, int operation, int fd, byte* @event);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epoll, byte* events, int capacity, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitid(int idType, int id, byte* information, int options);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int waitpid(int pid, int* status, int options);
}
