using FsCheck;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace Nursery.Testing;

/// <summary>
/// Keeps FsCheck's result instead of printing or throwing it, so that a falsified isolated property becomes data;
/// arguments and shrinks still go to the runner the caller's config had (a verbose config stays verbose).
/// </summary>
internal sealed class CapturingRunner(IRunner inner) : IRunner
{
    public TestResult? Result { get; private set; }

    public string Name { get; private set; } = "";

    public void OnStartFixture(Type t) => inner.OnStartFixture(t);

    public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) => inner.OnArguments(ntest, args, every);

    public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) => inner.OnShrink(args, everyShrink);

    public void OnFinished(string name, TestResult testResult)
    {
        Name = name;
        Result = testResult;
    }
}
