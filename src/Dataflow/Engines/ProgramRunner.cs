using LanguageExt;

namespace Nursery.Engines;

/// <summary>A stage's items run by a <see cref="PerItemRunner{TIn,TOut}"/>: a process per item, so batches hold one item.</summary>
internal sealed class ProgramRunner<TIn, TOut>(PerItemRunner<TIn, TOut> runner) : IItemRunner<TIn, TOut>
{
    public IReadOnlyCollection<int> ProcessIds => runner.ProcessIds;

    public int Spawns => runner.Spawns;

    public Option<ChildFailure> Failure => Option<ChildFailure>.None;

    public int NextBatchSize(int max) => 1;

    public Task StartAsync(CancellationToken cancellationToken) => runner.StartAsync(cancellationToken);

    public Task<(Either<ChildFailure, TOut> Result, int ProcessId)> InvokeWithProcessIdAsync(TIn input, string key, int attempt, long memoryLimit, CancellationToken cancellationToken) =>
        runner.InvokeWithProcessIdAsync(input, key, attempt, memoryLimit, cancellationToken);

    public async Task<(Either<ChildFailure, TOut> Result, int ProcessId)[]> InvokeBatchAsync(IReadOnlyList<TIn> inputs, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var runs = new Task<(Either<ChildFailure, TOut> Result, int ProcessId)>[inputs.Count];
        for (var i = 0; i < runs.Length; i++)
            runs[i] = runner.InvokeWithProcessIdAsync(inputs[i], keys[i], 1, 0, cancellationToken);
        return await Task.WhenAll(runs).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => runner.DisposeAsync();
}
