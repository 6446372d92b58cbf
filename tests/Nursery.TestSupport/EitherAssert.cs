using LanguageExt;

namespace Nursery.Tests.Support;

/// <summary>Unwraps a result the test expects, or fails naming what came instead.</summary>
public static class EitherAssert
{
    public static TRight Right<TRight>(Either<ChildFailure, TRight> value) =>
        value.Match(right => right, failure => throw new Xunit.Sdk.XunitException($"expected a result, got {failure}"));

    public static TFailure Left<TFailure, TRight>(Either<ChildFailure, TRight> value)
        where TFailure : ChildFailure =>
        value.Match(
            right => throw new Xunit.Sdk.XunitException($"expected {typeof(TFailure).Name}, got the result {right}"),
            failure => failure as TFailure ?? throw new Xunit.Sdk.XunitException($"expected {typeof(TFailure).Name}, got {failure}")
        );
}
