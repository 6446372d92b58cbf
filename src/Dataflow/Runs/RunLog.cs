using Microsoft.Extensions.Logging;

namespace Nursery;

/// <summary>The warnings a run logs about its source.</summary>
internal static partial class RunLog
{
    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "The source did not return its next item within the drain timeout ({DrainTimeout}) after the abort; the run returns without it. A source that waits for items should stop when the token given to GetAsyncEnumerator (NurseryScope.Token) is cancelled: what it gives after the run returned is not processed.")]
    public static partial void SourceLeftBehind(ILogger logger, string drainTimeout);

    [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "The source gave item \"{Key}\" after the run returned; it was not processed. Make the source stop when the token given to GetAsyncEnumerator (NurseryScope.Token) is cancelled.")]
    public static partial void ItemsAfterReturn(ILogger logger, string key);
}
