using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace FanOut.Hangfire.Registration;

/// <summary>
/// Binds configuration over what code declared (post-configure runs after every Configure), so appsettings.json wins.
/// </summary>
internal sealed class ConfigurationOverrides(IConfigurationSection section) :
    IPostConfigureOptions<FanOutOptions>,
    IPostConfigureOptions<CronFanOutOptions>,
    IPostConfigureOptions<FanOutHandlerOptions>,
    IPostConfigureOptions<FanOutLimitOptions>
{
    public const string CronFanOutsSection = "CronFanOuts";
    public const string HandlersSection = "Handlers";
    public const string LimitsSection = "Limits";

    public void PostConfigure(string? name, FanOutOptions options)
    {
        if (name == Options.DefaultName)
        {
            // A list given in configuration replaces the one from code instead of being appended to it.
            ClearIfConfigured(section, nameof(FanOutOptions.DispatchRetryDelays), options.DispatchRetryDelays);
            section.Bind(options);
        }
    }

    public void PostConfigure(string? name, CronFanOutOptions options)
    {
        if (name is not null)
        {
            section.GetSection(CronFanOutsSection).GetSection(name).Bind(options);
        }
    }

    public void PostConfigure(string? name, FanOutHandlerOptions options)
    {
        if (name is not null)
        {
            var handler = section.GetSection(HandlersSection).GetSection(name);
            ClearIfConfigured(handler, nameof(FanOutHandlerOptions.RetryDelays), options.RetryDelays);
            handler.Bind(options);
        }
    }

    public void PostConfigure(string? name, FanOutLimitOptions options)
    {
        if (name is not null)
        {
            section.GetSection(LimitsSection).GetSection(name).Bind(options);
        }
    }

    private static void ClearIfConfigured(IConfiguration configuration, string key, IList<TimeSpan> list)
    {
        if (configuration.GetSection(key).GetChildren().Any())
        {
            list.Clear();
        }
    }
}
