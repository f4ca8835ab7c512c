using Microsoft.Extensions.DependencyInjection;

namespace FanOut.Hangfire.Registration;

internal sealed class FanOutBuilder(IServiceCollection services, FanOutDeclarations declarations) : IFanOutBuilder
{
    public IServiceCollection Services { get; } = services;

    public FanOutDeclarations Declarations { get; } = declarations;
}
