using Microsoft.Extensions.Configuration;
using Nursery.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Nursery to a host's services.</summary>
public static class NurseryServiceCollectionExtensions
{
    /// <summary>
    /// Adds Nursery with its options bound from <paramref name="configuration"/> (an <c>appsettings.json</c> section such
    /// as "Nursery", see <see cref="NurseryHostOptions"/>); pipelines added to the result run as hosted services.
    /// </summary>
    public static NurseryBuilder AddNursery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddNursery(configuration, static _ => { });
    }

    /// <summary>As <see cref="AddNursery(IServiceCollection, IConfiguration)"/>, then <paramref name="configure"/> over what was bound.</summary>
    public static NurseryBuilder AddNursery(this IServiceCollection services, IConfiguration configuration, Action<NurseryHostOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NurseryHostOptions>().Bind(configuration).PostConfigure(configure);
        var results = new NurseryPipelineResults();
        services.AddSingleton(results);
        return new NurseryBuilder(services, results);
    }
}
