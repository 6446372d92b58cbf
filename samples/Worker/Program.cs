using Nursery;
using Nursery.Hosting;
using Nursery.WorkerSample;

// A worker service: the "Nursery" section of appsettings.json sets the policy and the stage's children; the pipeline
// runs as a hosted service, and Ctrl+C (or the end of the items, with StopHostWhenDone) stops the host, after every
// child has been reaped.
var builder = Host.CreateApplicationBuilder(args);
var items = builder.Configuration.GetValue("Sample:Items", 2000);
builder.Services.AddNursery(builder.Configuration.GetSection("Nursery")).AddPipeline("checksums", async (context, cancellationToken) =>
{
    var logger = context.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Nursery.WorkerSample");
    var stage = context.Scope.Stage<int, long>(Checksums.Of, context.StageOptions("checksum"));
    long total = 0;
    var sink = context.Scope.Sink<long>(checksum => total = (total + checksum) % 1_000_000_007);
    stage.LinkTo(sink);
    var result = await context.Scope.RunAsync(Enumerable.Range(0, items), stage, cancellationToken: cancellationToken);
    SampleLog.Checksum(logger, result.Succeeded, total);
    return result;
});
await builder.Build().RunAsync();
