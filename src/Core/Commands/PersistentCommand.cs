namespace Nursery;

/// <summary>
/// A long-lived program that serves many items: it reads one JSON request a line on stdin (<c>{"id":1,"item":…}</c>)
/// and writes one JSON reply a line on stdout (<c>{"id":1,"ok":…}</c> or <c>{"id":1,"error":{"type","message","traceback"}}</c>),
/// optionally a <c>{"ready":true}</c> line first and <c>{"heartbeat":true}</c> lines while busy. A worker whose ready line
/// says <c>"batch":true</c> is sent batches of consecutive items (<c>{"first":1,"items":[…]}</c>) and answers runs of them
/// (<c>{"first":1,"ok":[…]}</c>). Anything else on stdout is a ProtocolViolation. See docs/commands.md. Immutable; build
/// with <see cref="Command.Persistent{TIn,TOut}"/>.
/// </summary>
public sealed record PersistentCommand<TIn, TOut>
{
    internal PersistentCommand(string executable, IReadOnlyList<string> arguments)
    {
        Executable = executable;
        Arguments = arguments;
    }

    /// <summary>The program: a path, or a name looked up on the PATH.</summary>
    public string Executable { get; init; }

    /// <summary>The arguments, passed as they are (never through a shell).</summary>
    public IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Wait for a <c>{"ready":true}</c> line before sending items (a failed start then is StartFailed).</summary>
    public bool ExpectReady { get; init; }

    /// <summary>The worker sends heartbeats: a silence longer than the worker options' HeartbeatTimeout kills it (TimedOut).</summary>
    public bool SendsHeartbeats { get; init; }

    /// <summary>Extra environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The working directory; empty for the current one.</summary>
    public string WorkingDirectory { get; init; } = "";

    /// <summary>The worker writes a ready line (and, with <paramref name="heartbeats"/>, heartbeats), as the Python helper does.</summary>
    public PersistentCommand<TIn, TOut> WithHandshake(bool heartbeats = true) => this with { ExpectReady = true, SendsHeartbeats = heartbeats };

    /// <summary>Add environment variables.</summary>
    public PersistentCommand<TIn, TOut> WithEnvironment(IReadOnlyDictionary<string, string> environment) => this with { Environment = environment };

    /// <summary>The command line, for logs.</summary>
    public override string ToString() => Arguments.Count == 0 ? Executable : $"{Executable} {string.Join(' ', Arguments)}";
}
