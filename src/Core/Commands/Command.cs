namespace Nursery;

/// <summary>Builds command bodies: any program as a stage body, per item or as a persistent worker.</summary>
public static class Command
{
    /// <summary>Runs <paramref name="executable"/> once per item.</summary>
    /// <remarks>
    /// <c>{}</c> in <paramref name="arguments"/> is replaced by the item's text and <c>{key}</c> by its key, each as one
    /// argument (no shell). The program still parses them as arguments: an item starting with <c>-</c> (<c>-la</c>,
    /// <c>--output=/etc/x</c>) becomes one of its options. For items that are not trusted, pass them on stdin (no <c>{}</c>),
    /// or end the options first: <c>Command.PerItem&lt;string, string&gt;("cat", "{}").WithEndOfOptions()</c> runs
    /// <c>cat -- {item}</c> (or write <c>"--"</c> into the arguments yourself).
    /// </remarks>
    /// <exception cref="ArgumentException">The executable is empty, or is neither an existing file nor found on the PATH.</exception>
    public static PerItemCommand<TIn, TOut> PerItem<TIn, TOut>(string executable, params string[] arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        EnsureExecutable(executable, nameof(PerItem));
        return new PerItemCommand<TIn, TOut>(executable, arguments ?? []);
    }

    /// <summary>Runs <paramref name="executable"/> as a long-lived worker speaking newline-delimited JSON.</summary>
    /// <exception cref="ArgumentException">The executable is empty or not found (neither an existing file nor on the PATH), or the item types cannot be JSON.</exception>
    public static PersistentCommand<TIn, TOut> Persistent<TIn, TOut>(string executable, params string[] arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        EnsureExecutable(executable, nameof(Persistent));
        var codec = new JsonCodec();
        Body.EnsureOnWire(codec, typeof(TIn), "input");
        Body.EnsureOnWire(codec, typeof(TOut), "output");
        return new PersistentCommand<TIn, TOut>(executable, arguments ?? []);
    }

    /// <summary>
    /// A persistent worker written in Python with the helper shipped next to the application (nursery_worker.py, found
    /// through PYTHONPATH), run by python3: ready line, heartbeats, tracebacks as Faulted.
    /// </summary>
    public static PersistentCommand<TIn, TOut> Python<TIn, TOut>(string script, params string[] arguments)
    {
        var path = Environment.GetEnvironmentVariable("PYTHONPATH");
        var helper = Path.GetDirectoryName(Launch.ShippedFiles.Locate("nursery_worker.py") ?? Path.Combine(AppContext.BaseDirectory, "nursery_worker.py"))!;
        return Persistent<TIn, TOut>("python3", [.. new[] { "-u", script }.Concat(arguments ?? [])])
            .WithHandshake()
            .WithEnvironment(new Dictionary<string, string> { ["PYTHONPATH"] = string.IsNullOrEmpty(path) ? helper : $"{helper}:{path}" });
    }

    /// <summary>
    /// Refuses a program that cannot be found now, when the command is built, instead of failing every item at run
    /// time. Command stages run their programs on this machine (a remote launcher is refused for them), so this
    /// machine's file system and PATH are the ones that count. A path is checked as it is (relative to the current
    /// directory); a bare name is looked up on the PATH.
    /// </summary>
    private static void EnsureExecutable(string executable, string builder)
    {
        if (Commands.CommandLaunch.Preflight(executable).Case is string reason)
            throw new ArgumentException($"Command.{builder}: {reason}.", nameof(executable));
    }
}
