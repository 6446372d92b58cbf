using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Nursery.Tests.Support;

namespace Nursery.Notebooks.Tests;

/// <summary>
/// The .NET Interactive kernel that Jupyter and VS Code notebooks run (<c>dotnet tool run dotnet-interactive stdio</c>,
/// pinned in .config/dotnet-tools.json), driven over its stdio protocol: one JSON command envelope a line in
/// (<c>SubmitCode</c> with the cell's kernel name, as a notebook front end sends a cell), one event envelope a line out.
/// Every process it starts carries an environment mark, so the ones a notebook leaves behind are found, and
/// <see cref="DisposeAsync"/> kills what is left by pid.
/// </summary>
public sealed partial class InteractiveKernel : IAsyncDisposable
{
    private const string MarkName = "NURSERY_NOTEBOOK_KERNEL";
    private static readonly TimeSpan QuitGrace = TimeSpan.FromSeconds(5);
    private static readonly SemaphoreSlim RestoreOnce = new(1, 1);
    private static bool _restored;

    private readonly Process _process;
    private readonly string _mark;
    private readonly Channel<JsonObject> _events = Channel.CreateUnbounded<JsonObject>();
    private readonly System.Text.StringBuilder _stderr = new();
    private readonly Task _reading;
    private int _submissions;

    private InteractiveKernel(Process process, string mark)
    {
        _process = process;
        _mark = mark;
        LauncherPid = process.Id;
        _reading = Task.WhenAll(ReadEventsAsync(), ReadStderrAsync());
    }

    /// <summary>The pid of the <c>dotnet tool run</c> process that started the kernel.</summary>
    public int LauncherPid { get; }

    /// <summary>The kernel's own pid, as its host URI (<c>kernel://pid-N/</c>) names it once it is ready.</summary>
    public int KernelPid { get; private set; }

    /// <summary>
    /// Restores the local tools (once per test run), starts the kernel with <paramref name="defaultKernel"/> in
    /// <paramref name="workingDirectory"/>, and waits at most <paramref name="timeout"/> for it to be ready.
    /// </summary>
    public static async Task<InteractiveKernel> StartAsync(string defaultKernel, string workingDirectory, TimeSpan timeout)
    {
        await RestoreToolsAsync(timeout);
        var start = new ProcessStartInfo(ProcessRun.Dotnet)
        {
            WorkingDirectory = Repository.Root, // where the tool manifest is
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "tool", "run", "dotnet-interactive", "--", "stdio", "--default-kernel", defaultKernel, "--working-dir", workingDirectory })
            start.ArgumentList.Add(argument);
        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_INTERACTIVE_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var mark = Guid.NewGuid().ToString("N");
        start.Environment[MarkName] = mark; // inherited by the kernel and every process a cell starts
        var kernel = new InteractiveKernel(Process.Start(start) ?? throw new InvalidOperationException("dotnet tool run dotnet-interactive did not start"), mark);
        try
        {
            await kernel.WaitUntilReadyAsync(timeout);
            return kernel;
        }
        catch
        {
            await kernel.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Submits one cell to the kernel named <paramref name="kernelName"/> ("csharp", "fsharp") and collects what it
    /// shows until the kernel says it succeeded or failed, for at most <paramref name="timeout"/>.
    /// </summary>
    public async Task<CellRun> SubmitAsync(int number, string kernelName, string code, TimeSpan timeout)
    {
        var token = $"cell-{++_submissions}";
        var envelope = new JsonObject
        {
            ["commandType"] = "SubmitCode",
            ["command"] = new JsonObject { ["code"] = code, ["targetKernelName"] = kernelName },
            ["token"] = token,
        };
        await _process.StandardInput.WriteLineAsync(envelope.ToJsonString());
        await _process.StandardInput.FlushAsync();
        var outputs = new List<CellOutput>();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var ev = await _events.Reader.ReadAsync(deadline.Token);
                var eventToken = (string?)ev["command"]?["token"];
                // A cell's own command and the commands it sends (a magic command, #r) have tokens "cell-N" and "cell-N.M".
                if (eventToken != token && eventToken?.StartsWith(token + ".", StringComparison.Ordinal) != true)
                    continue;
                var body = ev["event"];
                switch ((string?)ev["eventType"])
                {
                    case "StandardOutputValueProduced":
                        outputs.Add(new CellOutput(OutputKind.Stdout, Formatted(body)));
                        break;
                    case "StandardErrorValueProduced":
                        outputs.Add(new CellOutput(OutputKind.Stderr, Formatted(body)));
                        break;
                    case "DisplayedValueProduced":
                    case "DisplayedValueUpdated":
                        outputs.Add(new CellOutput(OutputKind.Display, Formatted(body)));
                        break;
                    case "ReturnValueProduced":
                        outputs.Add(new CellOutput(OutputKind.Result, Formatted(body)));
                        break;
                    case "CommandFailed" when eventToken == token:
                        var message = (string?)body?["message"] ?? "(no message)";
                        outputs.Add(new CellOutput(OutputKind.Error, new Dictionary<string, string> { ["text/plain"] = message }));
                        return new CellRun(number, outputs, message);
                    case "CommandSucceeded" when eventToken == token:
                        return new CellRun(number, outputs, null);
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            var shown = string.Concat(outputs.Select(output => output.Text));
            return new CellRun(number, outputs, $"the kernel did not finish the cell within {timeout.TotalSeconds} s; it showed:\n{shown}\nkernel stderr:\n{Stderr}");
        }
        catch (ChannelClosedException)
        {
            return new CellRun(number, outputs, $"the kernel exited while running the cell; its stderr:\n{Stderr}");
        }
    }

    /// <summary>
    /// The live processes the kernel started (its descendants, marked through their environment), other than the
    /// launcher and the kernel itself: what a notebook left running.
    /// </summary>
    public IReadOnlyList<int> Descendants() => [.. Processes.Marked(MarkName, _mark).Where(pid => pid != LauncherPid && pid != KernelPid)];

    /// <summary>What the kernel wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>
    /// Asks the kernel to quit, then kills by pid whatever of the launcher, the kernel and their descendants is still
    /// alive a few seconds later, and waits (bounded) until they are gone.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            var quit = new JsonObject { ["commandType"] = "Quit", ["command"] = new JsonObject(), ["token"] = "quit" };
            await _process.StandardInput.WriteLineAsync(quit.ToJsonString()).WaitAsync(QuitGrace);
            await _process.StandardInput.FlushAsync().WaitAsync(QuitGrace);
            _process.StandardInput.Close();
        }
        catch (Exception exception) when (exception is IOException or TimeoutException or ObjectDisposedException)
        {
            // The kernel is gone already or not reading: it is killed below.
        }
        await Processes.GoneWithinAsync(LauncherPid, QuitGrace);
        // Only processes that still carry this kernel's mark are signalled, so a pid reused meanwhile is left alone.
        foreach (var pid in Processes.Marked(MarkName, _mark))
            Processes.TrySignal(pid, Processes.SigKill);
        if (!_process.HasExited)
            _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(QuitGrace);
        await _reading.WaitAsync(QuitGrace);
        _process.Dispose();
    }

    /// <summary>True when the launcher, the kernel and every process marked as theirs are gone.</summary>
    public async Task<bool> AllGoneWithinAsync(TimeSpan timeout) =>
        await Processes.AllGoneWithinAsync(new[] { LauncherPid, KernelPid }.Where(pid => pid > 0), timeout) && Processes.Marked(MarkName, _mark).Count == 0;

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var ev = await _events.Reader.ReadAsync(deadline.Token);
                if ((string?)ev["eventType"] != "KernelReady")
                    continue;
                foreach (var uri in ev.ToJsonString().Split('"').Select(part => HostUri().Match(part)).Where(match => match.Success))
                {
                    KernelPid = int.Parse(uri.Groups[1].Value, CultureInfo.InvariantCulture);
                    return;
                }
                throw new InvalidOperationException($"the kernel said it is ready without naming its host (kernel://pid-N): {ev.ToJsonString()}");
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"the .NET Interactive kernel was not ready within {timeout.TotalSeconds} s; its stderr:\n{Stderr}");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"the .NET Interactive kernel exited before it was ready; its stderr:\n{Stderr}");
        }
    }

    // The kernel prints a banner and log lines on stdout too; only JSON envelopes are events.
    private async Task ReadEventsAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith('{'))
                    continue;
                try
                {
                    if (JsonNode.Parse(line) is JsonObject ev && ev["eventType"] is not null)
                        _events.Writer.TryWrite(ev);
                }
                catch (JsonException)
                {
                    // Not an envelope: a line the kernel logged.
                }
            }
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    private async Task ReadStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync() is { } line)
        {
            lock (_stderr)
                _stderr.AppendLine(line);
        }
    }

    private static Dictionary<string, string> Formatted(JsonNode? body) =>
        (body?["formattedValues"]?.AsArray() ?? [])
            .Where(value => value is not null)
            .GroupBy(value => (string?)value!["mimeType"] ?? "text/plain")
            .ToDictionary(group => group.Key, group => string.Concat(group.Select(value => (string?)value!["value"])));

    /// <summary>Runs `dotnet tool restore` in the repository once per test run (the kernel, .config/dotnet-tools.json).</summary>
    public static async Task RestoreToolsAsync(TimeSpan timeout)
    {
        await RestoreOnce.WaitAsync(timeout);
        try
        {
            if (_restored)
                return;
            var restore = await ProcessRun.RunAsync(ProcessRun.Dotnet, ["tool", "restore"], Repository.Root, timeout, closeStdin: true);
            if (restore.ExitCode != 0)
                throw new InvalidOperationException($"'dotnet tool restore' (the .NET Interactive kernel, .config/dotnet-tools.json) failed with {restore.ExitCode}:\n{restore.Stdout}\n{restore.Stderr}");
            _restored = true;
        }
        finally
        {
            RestoreOnce.Release();
        }
    }

    [GeneratedRegex(@"^kernel://pid-(\d+)")]
    private static partial Regex HostUri();
}
