using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Nursery.TestBodies;

/// <summary>Bodies that write bytes of their own onto the real protocol channel, or return results of a chosen size.</summary>
public static class ProtocolBodies
{
    /// <summary>The frame kinds' numbers, as on the wire (docs/protocol.md).</summary>
    public const byte HeartbeatKind = 7;
    public const byte ReplyKind = 5;

    /// <summary>How many random bytes <see cref="WriteRandomBytes"/> writes at most.</summary>
    public const int MaxRandomBytes = 4096;

    /// <summary>
    /// Writes 1 to <see cref="MaxRandomBytes"/> random bytes from a generator seeded with the item onto the protocol
    /// channel, then hangs. An odd seed starts them with a well-formed header of a control frame (hello, ready,
    /// heartbeat, bye) announcing more payload than that kind may carry, and more than the bytes that follow it.
    /// </summary>
    public static int WriteRandomBytes(int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[random.Next(1, MaxRandomBytes + 1)];
        random.NextBytes(bytes);
        if (seed % 2 == 1)
        {
            var kind = (byte)random.GetItems<int>([1, 3, 7, 9], 1)[0];
            var payload = kind == 1 ? random.Next((64 * 1024) + MaxRandomBytes, 16 << 20) : random.Next(MaxRandomBytes, 1 << 20);
            bytes = [.. Header((uint)payload + 1, kind), .. bytes];
        }
        return WriteAndHang(bytes, seed);
    }

    /// <summary>
    /// Writes a well-formed header announcing a heartbeat of 1,000 bytes of payload (a heartbeat is empty), then
    /// hangs; the real heartbeats keep coming from the host's own thread.
    /// </summary>
    public static int AnnounceLongHeartbeat(int x) => WriteAndHang(Header(1001, HeartbeatKind), x);

    /// <summary>Writes a reply header announcing <paramref name="payloadBytes"/> of payload, then hangs.</summary>
    public static int AnnounceReply(int payloadBytes) => WriteAndHang(Header((uint)payloadBytes + 1, ReplyKind), payloadBytes);

    /// <summary>A string of <paramref name="length"/> ASCII characters (its JSON: two bytes more).</summary>
    public static string ResultOfLength(int length) => new('r', length);

    private static byte[] Header(uint length, byte kind)
    {
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32LittleEndian(header, length);
        header[4] = kind;
        return header;
    }

    private static int WriteAndHang(byte[] bytes, int x)
    {
        var descriptor = int.Parse(Environment.GetEnvironmentVariable("NURSERY_PROTOCOL_FD") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        using (var channel = new FileStream(new SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, 1))
        {
            channel.Write(bytes);
            channel.Flush();
        }
        Thread.Sleep(Timeout.Infinite);
        return x;
    }
}
