using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Nursery.Hosting;

/// <summary>What <c>AddNursery</c> returns: add the pipelines the host runs.</summary>
public sealed class NurseryBuilder
{
    private readonly NurseryPipelineResults _results;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    internal NurseryBuilder(IServiceCollection services, NurseryPipelineResults results)
    {
        Services = services;
        _results = results;
    }

    /// <summary>The host's services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Runs <paramref name="pipeline"/> as a hosted service when the host starts: it builds its blocks in the context's
    /// scope and returns <c>scope.RunAsync(…, cancellationToken)</c>. When the host stops, the token is cancelled, the
    /// run aborts and every child is reaped before the host's stop completes.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or already used.</exception>
    public NurseryBuilder AddPipeline(string name, Func<NurseryPipelineContext, CancellationToken, Task<PipelineResult>> pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("The pipeline's name is empty; name it (its logs and results go by the name).", nameof(name));
        if (!_names.Add(name))
            throw new ArgumentException($"A pipeline named '{name}' was already added; give each pipeline its own name.", nameof(name));
        _results.Added(name);
        Services.AddSingleton<IHostedService>(provider => new NurseryPipelineService(
            name,
            pipeline,
            provider,
            provider.GetRequiredService<IOptions<NurseryHostOptions>>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetRequiredService<IHostApplicationLifetime>(),
            _results
        ));
        return this;
    }
}
