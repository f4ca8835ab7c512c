namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>Tests that start Hangfire hosts touch Hangfire's global configuration, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HangfireCollection
{
    public const string Name = "hangfire";
}
