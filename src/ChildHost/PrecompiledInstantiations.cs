using System.Runtime.CompilerServices;

namespace Nursery.ChildHost;

/// <summary>
/// Never called. Names the invokers of the commonest item types (int, long, double, bool, string, in every pair and
/// for synchronous, Task and ValueTask bodies) so that ReadyToRun compiles them into the host's image: an invoker is a
/// generic class the host instantiates at run time over the body's types, and over value types each instantiation is
/// otherwise compiled just in time in every fresh child, about a dozen methods before its first reply. Other types
/// still work; they are compiled at run time as before. (The codec's side is <see cref="JsonCodec"/>'s own list.)
/// </summary>
internal static class PrecompiledInstantiations
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Name()
    {
        ForInput<int>();
        ForInput<long>();
        ForInput<double>();
        ForInput<bool>();
        ForInput<string>();
    }

    private static void ForInput<TIn>()
    {
        Pair<TIn, int>();
        Pair<TIn, long>();
        Pair<TIn, double>();
        Pair<TIn, bool>();
        Pair<TIn, string>();
    }

    private static void Pair<TIn, TOut>()
    {
        IBodyInvoker[] invokers =
        [
            new SyncInvoker<TIn, TOut>(null!, null!),
            new TaskInvoker<TIn, TOut>(null!, null!),
            new ValueTaskInvoker<TIn, TOut>(null!, null!),
        ];
        foreach (var invoker in invokers)
        {
            invoker.Prepare();
            _ = invoker.InvokeAsync(default, null!, default).AsTask();
        }
    }
}
