
namespace CustomerRecords.Api.History;

internal static class HistoryExtensions
{
    /// <summary>The history feature: its store, the change feed's sequencer (inline and in the background), the retention purge and its JSON.</summary>
    public static WebApplicationBuilder AddHistory(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, HistoryJsonContext.Default));
        services.AddOptions<HistoryOptions>().BindConfiguration(HistoryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<HistoryStore>();
        services.AddSingleton<FeedSequencer>();
        services.AddHostedService<FeedSequencerService>();
        services.AddHostedService<HistoryRetentionService>();
        return builder;
    }
}
