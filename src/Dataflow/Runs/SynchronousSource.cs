namespace Nursery;

/// <summary>
/// An <see cref="IEnumerable{T}"/> as the feed reads it: each read is a plain <c>MoveNext</c> on the feed's thread
/// (no state machine per item). A <c>MoveNext</c> cannot be cancelled: one that blocks is left behind after an abort.
/// </summary>
internal sealed class SynchronousSource<T>(IEnumerable<T> source) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => new Reader(source.GetEnumerator());

    private sealed class Reader(IEnumerator<T> items) : IAsyncEnumerator<T>
    {
        public T Current => items.Current;

        public ValueTask<bool> MoveNextAsync() => new(items.MoveNext());

        public ValueTask DisposeAsync()
        {
            items.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
