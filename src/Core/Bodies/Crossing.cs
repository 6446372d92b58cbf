using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Nursery;

/// <summary>
/// Which types can cross to a child process and back. A value crosses as bytes: what arrives must be the value that
/// was sent, created anew in another process. Types that are handles to something living in this process (an open
/// stream, a file system entry object, a running task, a token, a thread, a delegate, an address, a stack-only view)
/// cannot be re-created there, and <see cref="object"/> arrives as whatever the codec reads (a JsonElement), not as
/// the value sent. These are refused when the body is built, with what to send instead.
/// </summary>
internal static class Crossing
{
    /// <summary>Why <paramref name="type"/> cannot cross, with what to send instead; null when nothing here forbids it (the codec decides the rest).</summary>
    public static string? WhyNot(Type type)
    {
        if (type == typeof(object))
            return "System.Object would arrive in the child as whatever the codec reads (a JsonElement), not as the value sent; use a concrete record or type";
        if (type.IsPointer || type.IsByRef || type == typeof(IntPtr) || type == typeof(UIntPtr))
            return $"{type} is an address in this process's memory; send the data itself (an array, a string, a record)";
        if (type.IsByRefLike)
            return $"{type} is a stack-only view of memory; send an array (byte[], char[]) or a string instead";
        if (typeof(Delegate).IsAssignableFrom(type))
            return $"{type} is code bound to this process; send data, and let the body choose the code to run";
        if (typeof(Stream).IsAssignableFrom(type) || typeof(TextReader).IsAssignableFrom(type) || typeof(TextWriter).IsAssignableFrom(type))
            return $"{type} is an open stream in this process; pass a path (a string) instead and open the file in the body";
        if (typeof(FileSystemInfo).IsAssignableFrom(type))
            return $"{type} is a file system object of this process; pass its path (a string, FileSystemInfo.FullName) instead and create the object in the body";
        if (typeof(Task).IsAssignableFrom(type) || type == typeof(ValueTask) || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>)) || typeof(IAsyncResult).IsAssignableFrom(type))
            return $"{type} is an operation running in this process; await it and send its result (for an asynchronous body, use Body.FromAsync)";
        if (type == typeof(CancellationToken) || type == typeof(CancellationTokenSource))
            return $"{type} signals within this process only; a child is cancelled by the stage (ItemTimeout, the run's token), not by data";
        if (typeof(WaitHandle).IsAssignableFrom(type) || typeof(SafeHandle).IsAssignableFrom(type) || typeof(Thread).IsAssignableFrom(type) || typeof(Process).IsAssignableFrom(type))
            return $"{type} is a handle to something of this process's operating-system state; send the data it stands for (a path, a number) instead";
        if (typeof(Type).IsAssignableFrom(type) || typeof(MemberInfo).IsAssignableFrom(type))
            return $"{type} is a handle to this process's loaded code; send a name (a string) instead";
        return null;
    }
}
