using Nursery.Protocol;

namespace Nursery.ChildHost;

/// <summary>Sends a heartbeat frame at a fixed interval from its own thread, so a busy body or a starved thread pool does not silence it; only a stopped or frozen process does.</summary>
internal static class Heartbeat
{
    public static void Start(ProtocolChannel channel, TimeSpan interval)
    {
        var thread = new Thread(() =>
        {
            using var never = new ManualResetEventSlim();
            while (!never.Wait(interval))
                channel.Send(FrameKind.Heartbeat, []);
        })
        {
            IsBackground = true,
            Name = "Nursery heartbeat",
        };
        thread.Start();
    }
}
