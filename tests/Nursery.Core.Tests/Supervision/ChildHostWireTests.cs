using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Nursery.Protocol;
using Nursery.Protocol.Tests;
using Nursery.TestBodies;
using Nursery.Tests.Support;

namespace Nursery.Tests.Supervision;

/// <summary>
/// The child host's frame reading, against a real child host spoken to byte by byte: frames cut into single bytes,
/// several frames in one write, a payload larger than the host's read buffer, and input that is not frames.
/// </summary>
public sealed class ChildHostWireTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Frames_cut_into_single_bytes_sharing_writes_or_larger_than_the_read_buffer_are_all_answered_in_order()
    {
        await using var host = await RawHost.StartAsync();
        var small = Enumerable.Range(0, 3).Select(i => new RequestItem(i, Json($"cut {i}"))).ToArray();
        var cut = Batches.RequestFrame(small);
        foreach (var b in cut)
            await host.WriteAsync([b]);

        var shared = Batches.RequestFrame([new RequestItem(10, Json("first of two"))])
            .Concat(Frame(FrameKind.Heartbeat, []))
            .Concat(Batches.RequestFrame([new RequestItem(11, Json("second of two")), new RequestItem(12, Json(""))]))
            .ToArray();
        await host.WriteAsync(shared);

        var large = new string('x', 300 * 1024) + "é";
        await host.WriteAsync(Batches.RequestFrame([new RequestItem(20, Json(large)), new RequestItem(21, Json("after the large one"))]));

        var expected = new (long Id, string Text)[] { (0, "cut 0"), (1, "cut 1"), (2, "cut 2"), (10, "first of two"), (11, "second of two"), (12, ""), (20, large), (21, "after the large one") };
        var replies = await host.ReadRepliesAsync(expected.Length);

        Assert.Equal(expected.Select(e => e.Id), replies.Select(r => r.Id));
        Assert.All(replies, r => Assert.Equal(ReplyStatus.Ok, r.Status));
        Assert.Equal(expected.Select(e => e.Text), replies.Select(r => Text(r.Payload)));
        Assert.Equal(0, await host.EndAsync());
    }

    [Fact]
    public async Task A_frame_of_an_unknown_kind_from_the_parent_ends_the_child_with_exit_code_3_saying_what_came()
    {
        await using var host = await RawHost.StartAsync();
        await host.WriteAsync([5, 0, 0, 0, 99, 1, 2, 3, 4]);

        Assert.Equal(3, await host.ExitCodeAsync());
        Assert.Contains("unknown frame kind 99", host.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Input_that_ends_inside_a_request_frame_ends_the_child_with_exit_code_3()
    {
        await using var host = await RawHost.StartAsync();
        var frame = Batches.RequestFrame([new RequestItem(1, Json("never whole"))]);
        await host.WriteAsync(frame[..^4]);

        Assert.Equal(3, await host.EndAsync());
        Assert.Contains("ended inside a frame", host.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_frame_from_the_parent_ends_the_child_with_exit_code_3()
    {
        await using var host = await RawHost.StartAsync();
        await host.WriteAsync(Batches.ReplyFrame([new ReplyItem(1, ReplyStatus.Ok, Json("not for a child"))]));

        Assert.Equal(3, await host.ExitCodeAsync());
        Assert.Contains("unexpected Reply frame", host.Stderr, StringComparison.Ordinal);
    }

    private static byte[] Json(string text)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new JsonCodec().Serialize(text, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static string Text(byte[] json) => new JsonCodec().Deserialize<string>(new ReadOnlySequence<byte>(json));

    private static byte[] Frame(FrameKind kind, byte[] payload) => Wire.Encode([new WireFrame(kind, payload)]);

    /// <summary>A child host started with System.Diagnostics.Process, past Hello → Init → Ready, serving <see cref="Bodies.Echo"/>.</summary>
    private sealed class RawHost : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stderr = new();
        private readonly Stream _stdout;

        private RawHost(Process process)
        {
            _process = process;
            _stdout = process.StandardOutput.BaseStream;
            process.ErrorDataReceived += (_, line) =>
            {
                lock (_stderr)
                    _stderr.AppendLine(line.Data);
            };
            process.BeginErrorReadLine();
        }

        public string Stderr
        {
            get
            {
                lock (_stderr)
                    return _stderr.ToString();
            }
        }

        public static async Task<RawHost> StartAsync()
        {
            var info = new ProcessStartInfo(ChildHostLocation.Default.DotnetExecutable)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(ChildHostLocation.Default.HostAssembly);
            var host = new RawHost(Process.Start(info) ?? throw new InvalidOperationException("the child host did not start"));
            try
            {
                Assert.Equal(FrameKind.Hello, (await host.ReadFrameAsync()).Kind);
                var init = new InitMessage(Body.Describe(new Func<string, string>(Bodies.Echo), "body"), null, null, 60_000, typeof(JsonCodec).AssemblyQualifiedName!);
                await host.WriteAsync(Frame(FrameKind.Init, ProtocolJson.Encode(init)));
                Assert.Equal(FrameKind.Ready, (await host.ReadFrameAsync()).Kind);
                return host;
            }
            catch
            {
                // A start that went wrong must not leave the child behind.
                await host.DisposeAsync();
                throw;
            }
        }

        public async Task WriteAsync(byte[] bytes)
        {
            await _process.StandardInput.BaseStream.WriteAsync(bytes).AsTask().WaitAsync(Bound);
            await _process.StandardInput.BaseStream.FlushAsync().WaitAsync(Bound);
        }

        /// <summary>The next frame that is not a heartbeat.</summary>
        public async Task<(FrameKind Kind, byte[] Payload)> ReadFrameAsync()
        {
            while (true)
            {
                var header = new byte[FrameParser.HeaderLength];
                await _stdout.ReadExactlyAsync(header).AsTask().WaitAsync(Bound);
                var payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header) - 1];
                await _stdout.ReadExactlyAsync(payload).AsTask().WaitAsync(Bound);
                if ((FrameKind)header[4] != FrameKind.Heartbeat)
                    return ((FrameKind)header[4], payload);
            }
        }

        public async Task<IReadOnlyList<ReplyItem>> ReadRepliesAsync(int count)
        {
            var replies = new List<ReplyItem>();
            while (replies.Count < count)
            {
                var (kind, payload) = await ReadFrameAsync();
                Assert.Equal(FrameKind.Reply, kind);
                var entries = new List<ReplyEntry>();
                Assert.True(Batch.TryDecodeReplies(new ReadOnlySequence<byte>(payload), entries, out var violation), violation);
                replies.AddRange(entries.Select(e => new ReplyItem(e.Id, e.Status, e.Payload.ToArray())));
            }
            return replies;
        }

        /// <summary>Closes the child's stdin and returns its exit code.</summary>
        public async Task<int> EndAsync()
        {
            _process.StandardInput.Close();
            return await ExitCodeAsync();
        }

        public async Task<int> ExitCodeAsync()
        {
            await _process.WaitForExitAsync().WaitAsync(Bound);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            var pid = _process.Id;
            if (!_process.HasExited)
                Processes.Signal(pid, Processes.SigKill);
            await _process.WaitForExitAsync().WaitAsync(Bound);
            await Processes.AssertGoneAsync(pid, TimeSpan.FromSeconds(5));
            _process.Dispose();
        }
    }
}
