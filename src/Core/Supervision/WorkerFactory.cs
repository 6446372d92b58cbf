using LanguageExt;

namespace Nursery;

/// <summary>Starts <see cref="Worker{TIn,TOut}"/>s.</summary>
public static class Worker
{
    /// <summary>
    /// Starts a child, loads the body and runs its initializer. Returns the ready worker, or why it could not start
    /// (<see cref="ChildFailure.StartFailed"/>, or <see cref="ChildFailure.Cancelled"/> if <paramref name="cancellationToken"/>
    /// fired); on failure no process is left. Bounded by <see cref="WorkerOptions.StartTimeout"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static Task<Either<ChildFailure, Worker<TIn, TOut>>> StartAsync<TIn, TOut>(Body<TIn, TOut> body, WorkerOptions? options = null, CancellationToken cancellationToken = default) =>
        Worker<TIn, TOut>.StartAsync(body, options, cancellationToken);

    /// <summary>
    /// Starts a persistent command worker (newline-delimited JSON, see docs/protocol.md) and waits for its ready line when it
    /// sends one. Returns the worker or why it could not start; on failure no process is left.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static Task<Either<ChildFailure, Worker<TIn, TOut>>> StartAsync<TIn, TOut>(PersistentCommand<TIn, TOut> command, WorkerOptions? options = null, CancellationToken cancellationToken = default) =>
        Worker<TIn, TOut>.StartAsync(command, options, cancellationToken);
}
