namespace Nursery;

/// <summary>Builds command bodies: any program as a stage body, per item or as a persistent worker.</summary>
public static class Command
{
    /// <summary>Runs <paramref name="executable"/> once per item.</summary>
    /// <exception cref="ArgumentException">The executable is empty.</exception>
    public static PerItemCommand<TIn, TOut> PerItem<TIn, TOut>(string executable, params string[] arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        return new PerItemCommand<TIn, TOut>(executable, arguments ?? []);
    }

    /// <summary>Runs <paramref name="executable"/> as a long-lived worker speaking newline-delimited JSON.</summary>
    /// <exception cref="ArgumentException">The executable is empty, or the item types cannot be JSON.</exception>
    public static PersistentCommand<TIn, TOut> Persistent<TIn, TOut>(string executable, params string[] arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        var codec = new JsonCodec();
        Body.EnsureOnWire(codec, typeof(TIn), "input");
        Body.EnsureOnWire(codec, typeof(TOut), "output");
        return new PersistentCommand<TIn, TOut>(executable, arguments ?? []);
    }

    /// <summary>A persistent worker written in Python with the helper shipped with Nursery (nursery_worker.py), run by python3.</summary>
    public static PersistentCommand<TIn, TOut> Python<TIn, TOut>(string script, params string[] arguments) =>
        Persistent<TIn, TOut>("python3", [.. new[] { "-u", script }.Concat(arguments ?? [])]).WithHandshake();
}
