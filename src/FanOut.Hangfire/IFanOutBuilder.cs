using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire;

/// <summary>Declares cron fan-outs and handlers; returned by <c>AddFanOut</c>.</summary>
public interface IFanOutBuilder
{
    /// <summary>Gets the service collection the fan-outs are registered in.</summary>
    IServiceCollection Services { get; }
}
