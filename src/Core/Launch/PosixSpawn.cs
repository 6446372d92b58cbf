using System.Runtime.InteropServices;
using System.Text;

namespace Nursery.Launch;

/// <summary>
/// Starts a program with one <c>posix_spawn</c> (glibc on Linux): a session and process group of its own, an empty
/// signal mask, SIGPIPE back to its default action, stdin, stdout and stderr on fresh pipes, no other descriptor of
/// this process, the given environment and working directory.
/// </summary>
/// <remarks>
/// Every pipe end is made close-on-exec, so a program started at the same moment from another thread (here or by
/// <see cref="System.Diagnostics.Process"/>) holds none of them; the three the program gets are duplicated onto 0, 1 and
/// 2 in the child alone, which clears the flag there. The .NET runtime ignores SIGPIPE and an ignored signal survives
/// exec: without the reset, <c>yes | head -1</c> in the program would see write errors instead of ending quietly.
/// </remarks>
internal static unsafe partial class PosixSpawn
{
    /// <summary>Whether this C library and kernel offer what <see cref="Start"/> and <see cref="ExitWatcher"/> use.</summary>
    public static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    /// <summary>A started program: its pid (also its session and group id) and this process's ends of its three pipes.</summary>
    public readonly record struct Started(int ProcessId, int Stdin, int Stdout, int Stderr);

    /// <summary>Why a program was not started: the error number (<c>ENOEXEC</c> for a file the kernel cannot run) and a sentence.</summary>
    public readonly record struct Refused(int Error, string Reason);

    public const int Enoexec = 8;
    private const int Sigpipe = 13;

    /// <summary>POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID in glibc.</summary>
    private const short Flags = 0x04 | 0x08 | 0x80;

    /// <summary>Room for a posix_spawn_file_actions_t (80 bytes in glibc).</summary>
    private const int FileActionsBytes = 256;

    /// <summary>Room for a posix_spawnattr_t (336 bytes in glibc).</summary>
    private const int AttributesBytes = 512;

    /// <summary>Room for a sigset_t (128 bytes in glibc).</summary>
    private const int SignalSetBytes = 128;

    /// <summary>
    /// Starts <paramref name="path"/> (a path the kernel can open: absolute, or relative to
    /// <paramref name="workingDirectory"/>) with <paramref name="arguments"/> (argv, the program's name first) and
    /// exactly <paramref name="environment"/>; <paramref name="workingDirectory"/> null keeps this process's.
    /// </summary>
    public static LanguageExt.Either<Refused, Started> Start(string path, IReadOnlyList<string> arguments, IReadOnlyList<string> environment, string? workingDirectory)
    {
        var fds = stackalloc int[6];
        for (var i = 0; i < 6; i++)
            fds[i] = -1;
        var strings = new NativeStrings(1 + arguments.Count + environment.Count + 1);
        var actions = NativeMemory.AllocZeroed(FileActionsBytes);
        var attributes = NativeMemory.AllocZeroed(AttributesBytes);
        var signals = stackalloc byte[SignalSetBytes];
        var actionsMade = false;
        var attributesMade = false;
        var started = false;
        try
        {
            // fds: stdin read, stdin write, stdout read, stdout write, stderr read, stderr write.
            if (pipe2(fds, CloseOnExec) != 0 || pipe2(fds + 2, CloseOnExec) != 0 || pipe2(fds + 4, CloseOnExec) != 0)
                return new Refused(Marshal.GetLastPInvokeError(), $"no pipes for the program: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            var error = posix_spawn_file_actions_init(actions);
            actionsMade = error == 0;
            if (error == 0)
                error = posix_spawn_file_actions_adddup2(actions, fds[0], 0);
            if (error == 0)
                error = posix_spawn_file_actions_adddup2(actions, fds[3], 1);
            if (error == 0)
                error = posix_spawn_file_actions_adddup2(actions, fds[5], 2);
            if (error == 0)
                error = posix_spawn_file_actions_addclosefrom_np(actions, 3);
            if (error == 0 && workingDirectory is not null)
                error = posix_spawn_file_actions_addchdir_np(actions, strings.Add(workingDirectory));
            if (error == 0)
                error = posix_spawnattr_init(attributes);
            attributesMade = attributesMade || (error == 0);
            if (error == 0)
                error = posix_spawnattr_setflags(attributes, Flags);
            if (error == 0)
            {
                _ = sigemptyset(signals);
                error = posix_spawnattr_setsigmask(attributes, signals);
            }
            if (error == 0)
            {
                _ = sigaddset(signals, Sigpipe);
                error = posix_spawnattr_setsigdefault(attributes, signals);
            }
            if (error != 0)
                return new Refused(error, $"posix_spawn could not be set up: {Marshal.GetPInvokeErrorMessage(error)}");

            var file = strings.Add(path);
            var argv = strings.Array(arguments);
            var envp = strings.Array(environment);
            int pid;
            error = posix_spawn(&pid, file, actions, attributes, argv, envp);
            if (error != 0)
                return new Refused(error, Marshal.GetPInvokeErrorMessage(error));
            started = true;
            return new Started(pid, fds[1], fds[2], fds[4]);
        }
        finally
        {
            if (attributesMade)
                _ = posix_spawnattr_destroy(attributes);
            if (actionsMade)
                _ = posix_spawn_file_actions_destroy(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(actions);
            strings.Free();
            // The child's ends always; ours only if nothing was started.
            for (var i = 0; i < 6; i++)
            {
                var ours = i is 1 or 2 or 4;
                if (fds[i] >= 0 && (!ours || !started))
                    _ = close(fds[i]);
            }
        }
    }

    /// <summary>The functions <see cref="Start"/> needs beyond POSIX (glibc 2.29 and 2.34), and pidfds (Linux 5.3).</summary>
    private static bool Probe()
    {
        try
        {
            if (!NativeLibrary.TryLoad("libc.so.6", typeof(PosixSpawn).Assembly, null, out var libc))
                return false;
            foreach (var name in (string[])["posix_spawn_file_actions_addclosefrom_np", "posix_spawn_file_actions_addchdir_np", "posix_spawnattr_setsigdefault"])
            {
                if (!NativeLibrary.TryGetExport(libc, name, out _))
                    return false;
            }
            var self = ExitWatcher.OpenPidfd(Environment.ProcessId);
            if (self < 0)
                return false;
            _ = close(self);
            return true;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>UTF-8, NUL-terminated copies of strings and NULL-terminated arrays of them in native memory, freed together.</summary>
    private sealed class NativeStrings(int capacity)
    {
        private readonly List<nint> _blocks = new(capacity + 2);

        public byte* Add(string text)
        {
            var length = Encoding.UTF8.GetByteCount(text);
            var block = (byte*)NativeMemory.Alloc((nuint)length + 1);
            _blocks.Add((nint)block);
            _ = Encoding.UTF8.GetBytes(text, new Span<byte>(block, length));
            block[length] = 0;
            return block;
        }

        public byte** Array(IReadOnlyList<string> texts)
        {
            var array = (byte**)NativeMemory.Alloc((nuint)(texts.Count + 1), (nuint)sizeof(nint));
            _blocks.Add((nint)array);
            for (var i = 0; i < texts.Count; i++)
                array[i] = Add(texts[i]);
            array[texts.Count] = null;
            return array;
        }

        public void Free()
        {
            foreach (var block in _blocks)
                NativeMemory.Free((void*)block);
            _blocks.Clear();
        }
    }

    public const int CloseOnExec = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc")]
    internal static partial int close(int fd);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);

    [LibraryImport("libc")]
    private static partial int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigmask(void* attributes, byte* signals);

    [LibraryImport("libc")]
    private static partial int posix_spawnattr_setsigdefault(void* attributes, byte* signals);

    [LibraryImport("libc")]
    private static partial int sigemptyset(byte* signals);

    [LibraryImport("libc")]
    private static partial int sigaddset(byte* signals, int signal);

    [LibraryImport("libc")]
    private static partial int posix_spawn(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** environment);
}
