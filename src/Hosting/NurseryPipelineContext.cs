namespace Nursery.Hosting;

/// <summary>What a hosted pipeline is built with: its scope (made from the configured options), the container, and the configured stage settings.</summary>
public sealed class NurseryPipelineContext
{
    private readonly NurseryHostOptions _options;

    internal NurseryPipelineContext(string name, NurseryScope scope, IServiceProvider services, NurseryHostOptions options)
    {
        Name = name;
        Scope = scope;
        Services = services;
        _options = options;
    }

    /// <summary>The pipeline's name, as given to <c>AddPipeline</c>.</summary>
    public string Name { get; }

    /// <summary>The scope to build the pipeline's blocks in and run it with; the hosted service disposes it, which reaps every child.</summary>
    public NurseryScope Scope { get; }

    /// <summary>The host's services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>
    /// <paramref name="defaults"/> (or new options) named <paramref name="stage"/>, with what configuration sets for
    /// that stage (<c>Nursery:Stages:&lt;stage&gt;</c>) on top.
    /// </summary>
    public StageOptions StageOptions(string stage, StageOptions? defaults = null)
    {
        var options = (defaults ?? new StageOptions()) with { Name = stage };
        if (!_options.Stages.TryGetValue(stage, out var settings))
            return options;
        return options with
        {
            Workers = settings.Workers ?? options.Workers,
            Worker = options.Worker with
            {
                ItemTimeout = settings.ItemTimeout ?? options.Worker.ItemTimeout,
                MemoryLimit = settings.MemoryLimit ?? options.Worker.MemoryLimit,
            },
        };
    }
}
