using System.Runtime.InteropServices;

namespace Nursery.ChildHost;

/// <summary>
/// Makes sure that whatever the body starts ends with the host, however the host ends (its parent-death SIGKILL, a
/// kill -9 of its own, a crash, a normal exit): a small POSIX sh in the host's process group waits for end of file on
/// a pipe whose only writer is the host, and then kills the group, itself included. The kernel closes the pipe when
/// the host dies, by any cause, and the sh keeps the group (and so its id) alive until it has killed it.
/// </summary>
/// <remarks>
/// The write end is close-on-exec: a program the body starts does not hold it. Only for a host that leads its own
/// group (started by a local parent with NURSERY_SETSID): elsewhere the group is someone else's. A process that left
/// the group (setsid, setpgid) is out of its reach; a memory cgroup, where there is one, is emptied by the parent.
/// </remarks>
internal static unsafe partial class GroupKeeper
{
    /// <summary>The keeper's script; its name ($0) is for ps.</summary>
    private const string Script = "read _; kill -s KILL 0";

    /// <summary>Starts the keeper if this process leads its group; false when it does not or the keeper cannot start.</summary>
    public static bool Start()
    {
        if (!OperatingSystem.IsLinux() || getpgrp() != Environment.ProcessId)
            return false;
        var pipe = stackalloc int[2];
        if (pipe2(pipe, Native.OCloseOnExec) != 0)
            return false;
        var actions = NativeMemory.AllocZeroed(FileActionsBytes);
        try
        {
            if (posix_spawn_file_actions_init(actions) != 0)
                return false;
            try
            {
                // Only the pipe's read end as stdin, /dev/null for the rest: not the host's stdio, which is its parent's
                // channel (the parent waits for those pipes to close).
                if (posix_spawn_file_actions_adddup2(actions, pipe[0], 0) != 0
                    || posix_spawn_file_actions_addopen(actions, 1, "/dev/null", OWriteOnly, 0) != 0
                    || posix_spawn_file_actions_adddup2(actions, 1, 2) != 0)
                    return false;
                CloseTheRest(actions);
                return Spawn(actions);
            }
            finally
            {
                _ = posix_spawn_file_actions_destroy(actions);
            }
        }
        finally
        {
            NativeMemory.Free(actions);
            // The host keeps the write end open for the rest of its life; the keeper alone holds the read end.
            _ = Native.close(pipe[0]);
        }
    }

    /// <summary>
    /// Descriptors the host inherited without close-on-exec (from its own parent) are not the keeper's business: closed
    /// in it where the C library can (glibc 2.34 and later); elsewhere the keeper holds them as the host does.
    /// </summary>
    private static void CloseTheRest(void* actions)
    {
        try
        {
            _ = posix_spawn_file_actions_addclosefrom_np(actions, 3);
        }
        catch (EntryPointNotFoundException)
        {
            // An older or another C library.
        }
    }

    private static bool Spawn(void* actions)
    {
        var strings = new[] { "/bin/sh", "-c", Script, "nursery-keeper" };
        var pointers = new nint[strings.Length];
        try
        {
            for (var i = 0; i < strings.Length; i++)
                pointers[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
            var argvWithEnd = stackalloc nint[5];
            argvWithEnd[0] = pointers[0];
            argvWithEnd[1] = pointers[1];
            argvWithEnd[2] = pointers[2];
            argvWithEnd[3] = pointers[3];
            argvWithEnd[4] = 0;
            var environment = stackalloc nint[1];
            environment[0] = 0;
            int pid;
            return posix_spawn(&pid, (byte*)pointers[0], actions, null, (byte**)argvWithEnd, (byte**)environment) == 0;
        }
        finally
        {
            foreach (var pointer in pointers)
                Marshal.FreeCoTaskMem(pointer);
        }
    }

    /// <summary>Room for a posix_spawn_file_actions_t (80 bytes in glibc, less in musl).</summary>
    private const int FileActionsBytes = 256;

    private const int OWriteOnly = 1;

    [LibraryImport("libc")]
    private static partial int getpgrp();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn_file_actions_addopen(void* actions, int fd, string path, int flags, uint mode);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);

    [LibraryImport("libc")]
    private static partial int posix_spawn(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** environment);
}
