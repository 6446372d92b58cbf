using Microsoft.Win32.SafeHandles;
using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>
/// The host's side of the channel. The real stdout is moved to a private descriptor and descriptor 1 is pointed at
/// stderr, so nothing the user's code prints (Console, native printf) can corrupt the protocol; every frame goes
/// out whole under one lock.
/// </summary>
internal sealed class ProtocolChannel
{
    private readonly Lock _gate = new();
    private readonly Stream _out;

    private const string DescriptorVariable = "NURSERY_PROTOCOL_FD";
    private readonly bool _proposalHeld;

    private ProtocolChannel(Stream output, Stream input, int protocolDescriptor, bool proposalHeld)
    {
        _out = output;
        Input = input;
        ProtocolDescriptor = protocolDescriptor;
        _proposalHeld = proposalHeld;
    }

    public Stream Input { get; }

    /// <summary>The descriptor frames are written to (for tests that must write garbage on purpose).</summary>
    public int ProtocolDescriptor { get; }

    public static ProtocolChannel Open()
    {
        var descriptor = 1;
        var proposed = ProposedDescriptor();
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            // Close-on-exec: processes the body starts must not hold the protocol channel open after the host dies.
            // The lowest free descriptor from the one the parent proposed: that one when it is free, as it almost
            // always is this early; otherwise the environment is corrected (PublishDescriptor).
            var copy = Native.fcntl(1, Native.FDupFdCloexec, proposed);
            if (copy < 0 && proposed > 3)
                copy = Native.fcntl(1, Native.FDupFdCloexec, 3);
            if (copy >= 0 && Native.dup2(2, 1) >= 0)
                descriptor = copy;
        }
        if (OperatingSystem.IsLinux())
        {
            Native.GrowPipe(0);
            Native.GrowPipe(descriptor);
        }
        // Once descriptor 1 is stderr, Console.Out (opened lazily, on descriptor 1) writes there by itself; setting it
        // up now would cost every child milliseconds before its hello.
        if (descriptor == 1)
            Console.SetOut(new StreamWriter(Console.OpenStandardError()) { AutoFlush = true });
        var output = new FileStream(new SafeFileHandle(descriptor, ownsHandle: descriptor != 1), FileAccess.Write, bufferSize: 0);
        var input = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        return new ProtocolChannel(output, input, descriptor, descriptor == proposed);
    }

    /// <summary>
    /// The descriptor the parent named in <c>NURSERY_PROTOCOL_FD</c> (3 when it named none). Setting a variable
    /// builds the runtime's managed copy of the whole environment, which costs a fresh host milliseconds of CPU on
    /// its way to Ready, and is seen by managed code only; a proposal that holds needs neither.
    /// </summary>
    private static int ProposedDescriptor() =>
        int.TryParse(Environment.GetEnvironmentVariable(DescriptorVariable), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var proposed) && proposed >= 3
            ? proposed
            : 3;

    /// <summary>
    /// Names the protocol descriptor in <c>NURSERY_PROTOCOL_FD</c> for the user's code when the environment does not
    /// already name it; done after the hello, before any of that code runs.
    /// </summary>
    public void PublishDescriptor()
    {
        if (!_proposalHeld)
            Environment.SetEnvironmentVariable(DescriptorVariable, ProtocolDescriptor.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Send(FrameKind kind, ReadOnlySpan<byte> payload)
    {
        using var frame = new FrameBuffer(payload.Length + FrameParser.HeaderLength);
        frame.WriteFrame(kind, payload);
        Send(frame);
    }

    public void Send(FrameBuffer frames)
    {
        lock (_gate)
        {
            _out.Write(frames.WrittenSpan);
            _out.Flush();
        }
    }
}
