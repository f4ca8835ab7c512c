using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FanOut.Hangfire.Execution;

/// <summary>
/// Lets every level through to <see cref="JobLogProvider"/>, whatever the application's own minimum level: what a job
/// keeps is decided by <see cref="FanOutJobLogOptions.MinimumLevel"/>, and a console kept at Warning must not hide a job's
/// Information lines. Rules the application sets for the provider's alias, with a category, still narrow it.
/// </summary>
internal sealed class JobLogFilter : IConfigureOptions<LoggerFilterOptions>
{
    public void Configure(LoggerFilterOptions options) =>
        options.Rules.Add(new LoggerFilterRule(typeof(JobLogProvider).FullName, categoryName: null, LogLevel.Trace, filter: null));
}
