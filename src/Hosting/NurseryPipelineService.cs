using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Nursery.Hosting;

/// <summary>
/// One pipeline run as a hosted service: a scope made from the configured options, the host's logger and meter
/// factories, the pipeline built and run, the scope disposed. When the host stops, the run is cancelled (it aborts:
/// every child is killed and reaped) and the service ends only once the scope is disposed.
/// </summary>
internal sealed partial class NurseryPipelineService(
    string name,
    Func<NurseryPipelineContext, CancellationToken, Task<PipelineResult>> pipeline,
    IServiceProvider services,
    IOptions<NurseryHostOptions> options,
    ILoggerFactory loggerFactory,
    IHostApplicationLifetime lifetime,
    NurseryPipelineResults results
) : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger($"Nursery.{name}");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start path: StartAsync returns at once, and the pipeline runs beside the other services.
        await Task.Yield();
        var settings = options.Value;
        PipelineResult? result = null;
        try
        {
            await using var scope = new NurseryScope(settings.ToNurseryOptions(_logger, services.GetService<IMeterFactory>()));
            result = await pipeline(new NurseryPipelineContext(name, scope, services, settings), stoppingToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogPipelineThrew(_logger, name, exception);
            results.Ended(name, null);
            Environment.ExitCode = 1;
            if (settings.StopHostWhenDone)
                lifetime.StopApplication();
            throw;
        }
        catch (OperationCanceledException)
        {
            // The host is stopping: the scope was disposed above, its children reaped.
        }
        results.Ended(name, result);
        if (result is { Completed: true })
            LogPipelineCompleted(_logger, name, result.Succeeded, result.Failed, result.Inputs);
        else if (result is not null)
        {
            LogPipelineAborted(_logger, name, result.AbortReason, result.Succeeded, result.Failed, result.Inputs);
            if (!stoppingToken.IsCancellationRequested)
                Environment.ExitCode = 1;
        }
        if (settings.StopHostWhenDone && results.AllEnded)
            lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Nursery pipeline {Pipeline} completed: {Succeeded} succeeded, {Failed} failed of {Inputs}")]
    private static partial void LogPipelineCompleted(ILogger logger, string pipeline, long succeeded, long failed, long inputs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Nursery pipeline {Pipeline} aborted ({Reason}): {Succeeded} succeeded, {Failed} failed of {Inputs}; every child was reaped")]
    private static partial void LogPipelineAborted(ILogger logger, string pipeline, string reason, long succeeded, long failed, long inputs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Nursery pipeline {Pipeline} threw while it was built or run; every child was reaped")]
    private static partial void LogPipelineThrew(ILogger logger, string pipeline, Exception exception);
}
