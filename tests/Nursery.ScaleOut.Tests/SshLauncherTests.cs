using Nursery.ScaleOut.Tests.Support;

namespace Nursery.ScaleOut.Tests;

/// <summary>The local worker's failure tests through ssh to the sshd on 127.0.0.1 that .ci/cluster-up starts.</summary>
public sealed class SshLauncherTests
{
    [SshFact]
    public Task An_item_longer_than_the_silence_timeout_completes_over_ssh() => LauncherScenarios.An_item_longer_than_the_silence_timeout_completes(Cluster.Ssh());

    [SshFact]
    public Task A_body_returns_its_result_from_a_child_reached_over_ssh() => LauncherScenarios.A_body_returns_its_result_from_a_child_behind_the_launcher(Cluster.Ssh());

    [SshFact]
    public Task A_throw_over_ssh_is_Faulted_and_the_child_keeps_serving() => LauncherScenarios.A_throw_is_Faulted_and_the_child_keeps_serving(Cluster.Ssh());

    [SshFact]
    public Task An_exit_over_ssh_is_Crashed_with_its_code() => LauncherScenarios.An_exit_is_Crashed_with_its_code(Cluster.Ssh());

    [SshFact]
    public Task A_kill_9_of_a_child_over_ssh_is_Crashed_with_signal_9_not_ssh_255() => LauncherScenarios.A_kill_9_of_the_remote_child_is_Crashed_with_signal_9(Cluster.Ssh());

    [SshFact]
    public Task A_hang_over_ssh_is_TimedOut_and_the_child_is_gone() => LauncherScenarios.A_hang_past_the_item_deadline_is_TimedOut_and_the_remote_child_is_gone(Cluster.Ssh());

    [SshFact]
    public Task Garbage_over_ssh_is_a_ProtocolViolation() => LauncherScenarios.Garbage_on_the_channel_is_a_ProtocolViolation(Cluster.Ssh());

    [SshFact]
    public Task Stray_bytes_from_a_login_script_are_a_StartFailed_not_a_hang() => LauncherScenarios.Stray_bytes_before_the_hello_are_a_StartFailed_naming_them(Cluster.Ssh());

    [SshFact]
    public Task A_missing_child_host_on_the_ssh_host_is_StartFailed() => LauncherScenarios.A_missing_child_host_on_the_remote_side_is_StartFailed(Cluster.Ssh());

    [SshFact]
    public Task A_child_whose_ssh_is_stopped_leaves_by_itself()
    {
        var marker = $"mark-{Guid.NewGuid():N}";
        var launcher = Cluster.Ssh();
        // The scenario finds the ssh process by the marker in its command line, where the child's environment never is.
        return LauncherScenarios.A_child_whose_parent_falls_silent_leaves_by_itself(launcher with { Options = [.. launcher.Options, $"SetEnv=NURSERY_TEST_MARK={marker}"] }, marker);
    }

    [SshFact]
    public Task Disposing_an_ssh_worker_leaves_nothing_running() => LauncherScenarios.Disposing_a_worker_leaves_nothing_running(Cluster.Ssh());

    [SshFact]
    public async Task An_unreachable_host_is_StartFailed_naming_it()
    {
        var launcher = Cluster.Ssh() with { Port = 1 };

        var started = await Worker.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher)).WaitAsync(LauncherScenarios.Bound);

        var failure = Nursery.Tests.Support.EitherAssert.Left<ChildFailure.StartFailed, Worker<int, int>>(started);
        Assert.Contains("ssh could not reach 127.0.0.1", failure.Reason, StringComparison.Ordinal);
    }

    [SshFact]
    public async Task Children_share_one_connection_per_host_and_are_reaped_without_waiting_for_it()
    {
        var launcher = Cluster.Ssh() with { ConnectionSharing = TimeSpan.FromSeconds(2) };
        await using (var children = new Nursery.Tests.Support.Children())
        {
            var first = await children.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher));
            var second = await children.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher));

            Assert.Equal(2, Nursery.Tests.Support.EitherAssert.Right(await first.InvokeAsync(1).WaitAsync(LauncherScenarios.Bound)));
            Assert.Equal(4, Nursery.Tests.Support.EitherAssert.Right(await second.InvokeAsync(2).WaitAsync(LauncherScenarios.Bound)));
            Assert.NotNull(launcher.ControlFolder);
            Assert.Single(Directory.EnumerateFileSystemEntries(launcher.ControlFolder));
        }
    }

    [SshFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_connection_sharing_folder_is_private_unpredictable_and_removed_once_its_children_are_gone()
    {
        var launcher = Cluster.Ssh() with { ConnectionSharing = TimeSpan.FromSeconds(1) };
        string folder;
        await using (var children = new Nursery.Tests.Support.Children())
        {
            var worker = await children.StartAsync(Body.From<int, int>(TestBodies.Bodies.Double), LauncherScenarios.Options(launcher));
            Assert.Equal(2, Nursery.Tests.Support.EitherAssert.Right(await worker.InvokeAsync(1).WaitAsync(LauncherScenarios.Bound)));
            folder = launcher.ControlFolder ?? throw new Xunit.Sdk.XunitException("no connection-sharing folder while a child runs");

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            Assert.NotEqual(Path.Combine(Path.GetTempPath(), $"nursery-ssh-{Environment.ProcessId}"), folder.TrimEnd('/'));
            Assert.Equal(geteuid(), OwnerOf(folder));
        }

        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (Directory.Exists(folder) && deadline.Elapsed < TimeSpan.FromSeconds(15))
            await Task.Delay(50);
        Assert.False(Directory.Exists(folder), $"the connection-sharing folder {folder} is still there after its children ended");
        Assert.Null(launcher.ControlFolder);
    }

    [Fact]
    public void A_host_that_ssh_would_read_as_an_option_is_refused_when_the_launcher_is_made()
    {
        var error = Assert.Throws<ArgumentException>(() => Launcher.Ssh("node1", "-oProxyCommand=touch /tmp/owned"));
        var viaWith = Assert.Throws<ArgumentException>(() => Launcher.Ssh("node1") with { Hosts = ["-v"] });

        Assert.Contains("starts with '-', which ssh would read as an option", error.Message, StringComparison.Ordinal);
        Assert.Contains("'-v'", viaWith.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Launcher.Ssh("node1 -v"));
    }

    [Fact]
    public void The_host_comes_after_the_end_of_sshs_options_and_the_environment_is_not_in_sshs_arguments()
    {
        var launcher = Launcher.Ssh("node7");
        var options = LauncherScenarios.Options(launcher);
        var child = new Launch.LaunchSpec("dotnet", ["host.dll"], new Dictionary<string, string> { ["NURSERY_SECRET"] = "s3cret value" }, "/work");

        var spec = launcher.Wrap(child, options, new Launch.RemoteLaunch(launcher, TimeSpan.FromSeconds(1)));

        Assert.Equal(["--", "node7"], spec.Arguments.Skip(spec.Arguments.Count - 3).Take(2));
        Assert.DoesNotContain(spec.Arguments, argument => argument.Contains("s3cret", StringComparison.Ordinal));
        Assert.Contains("s3cret value", System.Text.Encoding.UTF8.GetString(spec.StdinPrelude), StringComparison.Ordinal);
    }

    [SshFact]
    public async Task The_childs_environment_reaches_it_over_ssh_without_appearing_in_any_command_line()
    {
        var key = $"secret-{Guid.NewGuid():N}";
        var secret = $"{key} with 'quotes', $dollars and a\nsecond line";
        var options = LauncherScenarios.Options(Cluster.Ssh()) with { Environment = new Dictionary<string, string> { ["NURSERY_TEST_SECRET"] = secret } };
        await using var children = new Nursery.Tests.Support.Children();
        var worker = await children.StartAsync(Body.From<string, string>(ScaleOutBodies.Variable), options);

        var value = Nursery.Tests.Support.EitherAssert.Right(await worker.InvokeAsync("NURSERY_TEST_SECRET").WaitAsync(LauncherScenarios.Bound));
        var shownIn = Directory.EnumerateDirectories("/proc")
            .Where(path => Path.GetFileName(path).All(char.IsAsciiDigit))
            .Select(path => (Path: path, Line: ReadOrEmpty(Path.Combine(path, "cmdline"))))
            .Where(entry => entry.Line.Contains(key, StringComparison.Ordinal))
            .ToList();

        Assert.Equal(secret, value);
        Assert.True(shownIn.Count == 0, $"the secret is in the command line of {string.Join(", ", shownIn.Select(entry => entry.Path))}");
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Replace('\0', ' ');
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>The uid owning <paramref name="path"/>, as stat(1) gives it.</summary>
    private static uint OwnerOf(string path) => uint.Parse(Cluster.Run("stat", "-c", "%u", path).Output.Trim(), System.Globalization.CultureInfo.InvariantCulture);

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();

    [Fact]
    public void A_memory_limit_over_ssh_is_refused_when_the_worker_starts()
    {
        var options = LauncherScenarios.Options(Launcher.Ssh("node1")) with { MemoryLimit = 64 << 20 };

        var error = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.Contains("not enforced over ssh", error.Message, StringComparison.Ordinal);
    }
}
