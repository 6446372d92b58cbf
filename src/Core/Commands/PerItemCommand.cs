using System.Text;
using System.Text.Json;

namespace Nursery;

/// <summary>
/// A program run once per item, GNU parallel style: the item goes to stdin and/or into the arguments (<c>{}</c> is the
/// item, <c>{key}</c> its key; never through a shell, so nothing is interpolated), stdout parsed is the result, a
/// non-zero exit is Crashed with the exit code and stderr's last lines. Immutable; build with <see cref="Command.PerItem{TIn,TOut}"/>.
/// </summary>
/// <remarks>
/// An item in the arguments is still read by the program as it reads any argument: an item <c>-la</c> given to
/// <c>ls {}</c> is an option of ls, and <c>--output=/etc/x</c> may be one of a program that writes files. Give items
/// from outside through stdin, or end the program's options before them (<see cref="WithEndOfOptions"/>, or <c>--</c>
/// in the arguments).
/// </remarks>
public sealed record PerItemCommand<TIn, TOut>
{
    internal PerItemCommand(string executable, IReadOnlyList<string> arguments)
    {
        Executable = executable;
        Arguments = arguments;
        ItemToStdin = !arguments.Any(argument => argument.Contains("{}", StringComparison.Ordinal));
    }

    /// <summary>The program: a path, or a name looked up on the PATH.</summary>
    public string Executable { get; init; }

    /// <summary>The arguments; <c>{}</c> is replaced by the item's text and <c>{key}</c> by its key.</summary>
    public IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Whether the item's text is written to the program's stdin (the default when no argument holds <c>{}</c>).</summary>
    public bool ItemToStdin { get; init; }

    /// <summary>How an item becomes text: strings as they are, anything else as JSON.</summary>
    public Func<TIn, string> Format { get; init; } = DefaultFormat;

    /// <summary>How stdout becomes the result: for strings, the text without its last newline; anything else as JSON. Throwing makes the item a ProtocolViolation.</summary>
    public Func<string, TOut> Parse { get; init; } = DefaultParse;

    /// <summary>Extra environment variables.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The working directory; empty for the current one.</summary>
    public string WorkingDirectory { get; init; } = "";

    /// <summary>The most stdout kept per item; more is a ProtocolViolation.</summary>
    public int MaxOutputBytes { get; init; } = 64 << 20;

    /// <summary>Parse stdout with this function.</summary>
    public PerItemCommand<TIn, TOut> WithParser(Func<string, TOut> parse) => this with { Parse = parse ?? throw new ArgumentNullException(nameof(parse)) };

    /// <summary>Format items with this function.</summary>
    public PerItemCommand<TIn, TOut> WithFormatter(Func<TIn, string> format) => this with { Format = format ?? throw new ArgumentNullException(nameof(format)) };

    /// <summary>Write the item to stdin (or not).</summary>
    public PerItemCommand<TIn, TOut> WithStdin(bool itemToStdin) => this with { ItemToStdin = itemToStdin };

    /// <summary>Add environment variables.</summary>
    public PerItemCommand<TIn, TOut> WithEnvironment(IReadOnlyDictionary<string, string> environment) => this with { Environment = environment };

    /// <summary>
    /// Whether <c>--</c> is passed just before the first argument that is exactly <c>{}</c> or <c>{key}</c>, so that an item
    /// or key starting with <c>-</c> reaches the program as an operand, not as one of its options. Only for programs
    /// that read <c>--</c> as the end of their options (most do: POSIX utilities, getopt, argparse); one that does not
    /// would see <c>--</c> as an argument.
    /// </summary>
    public bool EndOfOptions { get; init; }

    /// <summary>
    /// Pass <c>--</c> before the item's argument (see <see cref="EndOfOptions"/>): <c>Command.PerItem("cat", "{}").WithEndOfOptions()</c>
    /// runs <c>cat -- -n</c> for the item <c>-n</c>, reading a file named "-n" instead of turning on line numbers.
    /// </summary>
    /// <exception cref="ArgumentException">No argument is exactly <c>{}</c> or <c>{key}</c>, so there is no place for <c>--</c>; write it into the arguments yourself.</exception>
    public PerItemCommand<TIn, TOut> WithEndOfOptions()
    {
        if (FirstPlaceholder() < 0)
            throw new ArgumentException($"WithEndOfOptions puts -- before the first argument that is exactly {{}} or {{key}}, and the command '{this}' has none; write -- into its arguments where its options end.");
        return this with { EndOfOptions = true };
    }

    private int FirstPlaceholder()
    {
        for (var i = 0; i < Arguments.Count; i++)
        {
            if (Arguments[i] is "{}" or "{key}")
                return i;
        }
        return -1;
    }

    internal IReadOnlyList<string> ArgumentsFor(string itemText, string key)
    {
        var arguments = new List<string>(Arguments.Count + 1);
        var endAt = EndOfOptions ? FirstPlaceholder() : -1;
        if (endAt >= 0 && Arguments.Take(endAt).Contains("--", StringComparer.Ordinal))
            endAt = -1;
        for (var i = 0; i < Arguments.Count; i++)
        {
            if (i == endAt)
                arguments.Add("--");
            arguments.Add(Arguments[i].Replace("{key}", key, StringComparison.Ordinal).Replace("{}", itemText, StringComparison.Ordinal));
        }
        return arguments;
    }

    /// <summary>The command line, for logs.</summary>
    public override string ToString() => Arguments.Count == 0 ? Executable : $"{Executable} {string.Join(' ', Arguments)}";

    private static string DefaultFormat(TIn item) => item is string text ? text : JsonSerializer.Serialize(item);

    private static TOut DefaultParse(string stdout)
    {
        if (typeof(TOut) == typeof(string))
            return (TOut)(object)(stdout.EndsWith('\n') ? stdout[..^1] : stdout);
        return JsonSerializer.Deserialize<TOut>(stdout) ?? throw new JsonException("stdout held JSON null");
    }

    internal static byte[] Encode(string text) => Encoding.UTF8.GetBytes(text);
}
