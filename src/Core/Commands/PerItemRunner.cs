using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using LanguageExt;
using Nursery.Commands;
using Nursery.Launch;
using Nursery.Supervision;
using Nursery.Telemetry;

namespace Nursery;

/// <summary>
/// Runs a <see cref="PerItemCommand{TIn,TOut}"/>: one process per item, at most <see cref="PoolOptions.Workers"/> at a
/// time, each under the item deadline and memory limit of <see cref="PoolOptions.Worker"/>, its whole process group
/// killed when the deadline passes or the call is cancelled. Every call completes exactly once with the parsed stdout
/// or a failure; after disposal no process it started is left.
/// </summary>
public sealed class PerItemRunner<TIn, TOut> : IAsyncDisposable
{
    private readonly PerItemCommand<TIn, TOut> _command;
    private readonly PoolOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<int> _processIds = [];
    private readonly ConcurrentDictionary<IChildProcess, byte> _running = new();
    private readonly CancellationTokenSource _disposing = new();
    private int _spawns;
    private readonly Lock _guardGate = new();
    private bool _guardHeld;

    /// <summary>Makes a runner; nothing starts until the first item.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public PerItemRunner(PerItemCommand<TIn, TOut> command, PoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        _command = command;
        _options = (options ?? new PoolOptions()).Validate();
        _slots = new SemaphoreSlim(_options.Workers, _options.Workers);
    }

    /// <summary>Every process id started so far.</summary>
    public IReadOnlyCollection<int> ProcessIds => [.. _processIds];

    /// <summary>How many processes were started.</summary>
    public int Spawns => Volatile.Read(ref _spawns);

    /// <summary>Completes at once: a process starts with each item, none ahead of it.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Runs one item in a process of its own: the parsed stdout, or the failure. Never throws for the process's failure.</summary>
    public async Task<Either<ChildFailure, TOut>> InvokeAsync(TIn input, string key, int attempt = 1, CancellationToken cancellationToken = default) =>
        (await InvokeWithProcessIdAsync(input, key, attempt, 0, cancellationToken).ConfigureAwait(false)).Result;

    /// <summary>
    /// Runs one item as <see cref="InvokeAsync"/> does, with the pid of its process (0 if none was started);
    /// <paramref name="memoryLimit"/> above the configured one runs it with that limit (a retry after an OOM kill).
    /// </summary>
    public async Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeWithProcessIdAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken)
    {
        // The item's span, as a worker's item span: from the call to the result, under the caller's current activity.
        var span = Tracing.Source.HasListeners() ? Tracing.StartDetached("nursery.item", ActivityKind.Internal) : null;
        if (span is null)
            return await InvokeCoreAsync(input, key, attempt, memoryLimit, null, cancellationToken).ConfigureAwait(false);
        span.SetTag("nursery.stage", _options.Worker.NameOrDefault);
        span.SetTag("nursery.key", key);
        span.SetTag("nursery.attempt", attempt);
        try
        {
            var ended = await InvokeCoreAsync(input, key, attempt, memoryLimit, span.Recorded ? TraceParent(span) : null, cancellationToken).ConfigureAwait(false);
            if (ended.ProcessId > 0)
                span.SetTag("nursery.pid", ended.ProcessId);
            ended.Result.Match(_ => span.SetTag("nursery.outcome", "Succeeded"), failure => Tracing.Fail(span, failure));
            return ended;
        }
        finally
        {
            Tracing.StopDetached(span);
        }
    }

    /// <summary>A span's W3C traceparent, which a program reads from its <c>TRACEPARENT</c> variable.</summary>
    private static string TraceParent(Activity span) =>
        $"00-{span.TraceId.ToHexString()}-{span.SpanId.ToHexString()}-{((span.ActivityTraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    private async Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeCoreAsync(TIn input, string key, int attempt, long memoryLimit, string? traceParent, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        try
        {
            await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return (Stamp(new ChildFailure.Cancelled("cancelled before its process was started", Option<ChildFailure>.None, false), key, attempt, 0, TimeSpan.Zero, []), 0);
        }
        try
        {
            return await RunAsync(input, key, attempt, memoryLimit > 0 ? memoryLimit : _options.Worker.MemoryLimit ?? 0, traceParent, linked.Token).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Kills every running process group and waits until each is reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
            return;
        await _disposing.CancelAsync().ConfigureAwait(false);
        var running = _running.Keys.ToArray();
        foreach (var process in running)
            process.Kill();
        await Task.WhenAll(running.Select(process => process.Exit)).ConfigureAwait(false);
        bool held;
        lock (_guardGate)
        {
            held = _guardHeld;
            _guardHeld = false;
        }
        if (held)
            await OrphanGuard.ReleaseAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Whether the orphan guard runs, held for this runner from its first direct start until it is disposed (so the
    /// guard does not outlive the runners that use it); false once disposing, or when no guard can be started.
    /// </summary>
    private bool HoldGuard()
    {
        lock (_guardGate)
        {
            if (!_guardHeld && !_disposing.IsCancellationRequested)
                _guardHeld = OrphanGuard.Hold();
            return _guardHeld;
        }
    }

    private async Task<(Either<ChildFailure, TOut>, int)> RunAsync(TIn input, string key, int attempt, long memoryLimit, string? traceParent, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = _command.Format(input);
        }
        catch (Exception exception)
        {
            return (Stamp(new ChildFailure.Faulted(RemoteError.From(exception) with { Message = $"the item could not be formatted for the command: {exception.Message}" }), key, attempt, 0, TimeSpan.Zero, []), 0);
        }
        var missing = CommandLaunch.Preflight(_command.Executable);
        if (missing.IsSome)
            return (Stamp(new ChildFailure.StartFailed(missing.IfNone("")), key, attempt, 0, TimeSpan.Zero, []), 0);

        MemoryCgroup? cgroup = null;
        if (memoryLimit > 0)
            MemoryCgroup.Create(memoryLimit).Match(made => cgroup = made, reason => Log.NoMemoryCgroup((_options.Worker.Logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance), reason));
        try
        {
            return await RunInCgroupAsync(text, key, attempt, cgroup, traceParent, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (cgroup is not null)
                await cgroup.RemoveAsync().ConfigureAwait(false);
        }
    }

    private async Task<(Either<ChildFailure, TOut>, int)> RunInCgroupAsync(string text, string key, int attempt, MemoryCgroup? cgroup, string? traceParent, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string>(_options.Worker.Environment) { ["NURSERY_ITEM_KEY"] = key };
        if (traceParent is not null)
            environment["TRACEPARENT"] = traceParent;
        foreach (var (name, value) in _command.Environment)
            environment[name] = value;
        var arguments = _command.ArgumentsFor(text, key);
        var stdin = _command.ItemToStdin ? Encoding.UTF8.GetBytes(text) : [];
        var output = new MemoryStream();
        var overflow = false;
        var logger = _options.Worker.Logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var started = Stopwatch.GetTimestamp();
        var launched = await StartAsync(
                arguments,
                environment,
                cgroup,
                async (stream, token) => await stream.WriteAsync(stdin, token).ConfigureAwait(false),
                async (stream, token) => overflow = await CopyBoundedAsync(stream, output, _command.MaxOutputBytes, token).ConfigureAwait(false),
                line => Log.ChildStderr(logger, _options.Worker.NameOrDefault, 0, line),
                logger
            )
            .ConfigureAwait(false);
        if (launched.IsLeft)
            return (Stamp(new ChildFailure.StartFailed(launched.Match(_ => "", reason => reason)), key, attempt, 0, TimeSpan.Zero, []), 0);
        var process = launched.Match(p => p, _ => throw new UnreachableException());
        Interlocked.Increment(ref _spawns);
        _processIds.Add(process.ProcessId);
        _running[process] = 0;
        try
        {
            var timedOut = false;
            var cancelled = false;
            using (cancellationToken.Register(() =>
            {
                cancelled = true;
                process.Kill();
            }))
            {
                var timeout = _options.Worker.ItemTimeout;
                if (timeout != Timeout.InfiniteTimeSpan && await Task.WhenAny(process.Exit, Task.Delay(timeout, CancellationToken.None)).ConfigureAwait(false) != process.Exit)
                {
                    timedOut = !process.HasExited;
                    if (timedOut)
                        process.Kill();
                }
                var exit = await process.Exit.ConfigureAwait(false);
                var elapsed = Stopwatch.GetElapsedTime(started);
                var stderr = process.Stderr.Snapshot();
                var result = Classify(exit, output, overflow, cgroup, timedOut, cancelled);
                return (result.MapLeft(failure => (ChildFailure)Stamp(failure, key, attempt, process.ProcessId, elapsed, stderr)), process.ProcessId);
            }
        }
        finally
        {
            _running.TryRemove(process, out _);
        }
    }

    /// <summary>
    /// Starts the program with one exec where it can (<see cref="CommandLaunch.SpawnsDirectly"/>, with the orphan guard
    /// running), else through the wrappers of <see cref="CommandLaunch.Build"/>: under a memory limit, off Linux, and for
    /// a file the kernel cannot run (a script without <c>#!</c>, which the wrappers' sh runs as a shell script).
    /// </summary>
    private async Task<Either<string, IChildProcess>> StartAsync(
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        MemoryCgroup? cgroup,
        Func<Stream, CancellationToken, Task> feedStdin,
        Func<Stream, CancellationToken, Task> readStdout,
        Action<string> onStderrLine,
        Microsoft.Extensions.Logging.ILogger logger
    )
    {
        if (CommandLaunch.SpawnsDirectly(cgroup) && HoldGuard())
        {
            var direct = CommandLaunch.Direct(_command.Executable, arguments, environment, _command.WorkingDirectory);
            if (direct.Path is null)
                return $"the executable '{_command.Executable}' was not found on the program's PATH ({environment.GetValueOrDefault("PATH") ?? Environment.GetEnvironmentVariable("PATH")}); install it or give its full path";
            if (direct.WorkingDirectory is not null && !Directory.Exists(direct.WorkingDirectory))
                return $"cannot start '{_command}': the working directory '{direct.WorkingDirectory}' does not exist";
            var spawned = SpawnedProcess.Start(direct.Path, direct.Arguments, direct.Environment, direct.WorkingDirectory, feedStdin, readStdout, onStderrLine);
            if (spawned.IsRight)
                return Prelude.Right<string, IChildProcess>(spawned.Match(process => process, _ => throw new UnreachableException()));
            var refused = spawned.Match(_ => default, refusal => refusal);
            if (refused.Error != PosixSpawn.Enoexec)
                return $"cannot start '{direct.Path}': {refused.Reason}. Check that it exists, is executable, and that the path is right ({_command}).";
        }
        var spec = CommandLaunch.Build(_command.Executable, arguments, environment, _command.WorkingDirectory, cgroup);
        var launched = await ChildProcess.StartAsync(spec, feedStdin, readStdout, onStderrLine, logger).ConfigureAwait(false);
        return launched.Map(process => (IChildProcess)process);
    }

    private Either<ChildFailure, TOut> Classify(ChildExit exit, MemoryStream output, bool overflow, MemoryCgroup? cgroup, bool timedOut, bool cancelled)
    {
        if (timedOut)
            return new ChildFailure.TimedOut(TimeoutKind.ItemDeadline, _options.Worker.ItemTimeout);
        if (cancelled)
            return new ChildFailure.Cancelled("cancelled while its process ran; the process group was killed", Option<ChildFailure>.None, true);
        if (cgroup is not null && cgroup.OomKills() > 0)
            return new ChildFailure.OutOfMemory(cgroup.LimitBytes, cgroup.PeakBytes());
        if (exit.ExitCode != 0)
        {
            var note = exit.Signal.Match(signal => signal == 9 && cgroup is null ? "possibly out of memory (no memory limit was set)" : "", () => "");
            return new ChildFailure.Crashed(exit.ExitCode, exit.Signal, note);
        }
        var bytes = output.ToArray();
        if (overflow)
            return new ChildFailure.ProtocolViolation($"the command wrote more than {_command.MaxOutputBytes} bytes to stdout (PerItemCommand.MaxOutputBytes)", bytes[..Math.Min(bytes.Length, 64)]);
        TOut parsed;
        try
        {
            parsed = _command.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (Exception exception)
        {
            return new ChildFailure.ProtocolViolation($"the command's stdout could not be parsed as {typeof(TOut).Name}: {exception.Message}", bytes[..Math.Min(bytes.Length, 64)]);
        }
        if (parsed is null)
            return new ChildFailure.Faulted(new RemoteError("Nursery.NullResult", "the parser returned null; a result must be a value", "", []));
        return parsed;
    }

    private ChildFailure Stamp(ChildFailure failure, string key, int attempt, int processId, TimeSpan elapsed, IReadOnlyList<string> stderr) =>
        failure with { Stage = _options.Worker.NameOrDefault, Key = key, Attempt = attempt, ProcessId = processId, Elapsed = elapsed, StderrTail = stderr };

    private static async Task<bool> CopyBoundedAsync(Stream source, MemoryStream destination, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var overflow = false;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (destination.Length + read > limit)
                overflow = true;
            else
                destination.Write(buffer, 0, read);
        }
        return overflow;
    }
}
