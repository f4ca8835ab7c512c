using System.Reflection;
using FanOut.Hangfire.Dispatch;
using NetArchTest.Rules;

namespace FanOut.Hangfire.Tests.Architecture;

/// <summary>
/// The folders of FanOut.Hangfire are layers (docs/design.md, "Layers"): a namespace may use the namespaces of the
/// layers below it, never those beside or above it, so no dependency runs in a circle. A failure names the types that
/// break the rule and what they reach.
/// </summary>
public sealed class LayerTests
{
    private const string Root = "FanOut.Hangfire";
    private const string DependencyInjection = "Microsoft.Extensions.DependencyInjection";

    // Bottom first. Namespaces on one row are peers: neither may use the other.
    private static readonly string[][] Layers =
    [
        [Root],
        [$"{Root}.Telemetry", $"{Root}.Items", $"{Root}.Storage"],
        [$"{Root}.Registration"],
        [$"{Root}.Jobs"],
        [$"{Root}.Flow"],
        [$"{Root}.Runs"],
        [$"{Root}.Dispatch", $"{Root}.Execution"],
        [$"{Root}.Hosting"],

        // The public face: the DI extension classes, in Microsoft.Extensions.DependencyInjection by .NET convention (a
        // namespace every layer also uses for IServiceCollection, so the top layer is named by its types).
        [
            $"{DependencyInjection}.FanOutServiceCollectionExtensions",
            $"{DependencyInjection}.FanOutBuilderExtensions",
            $"{DependencyInjection}.FanOutHealthChecksBuilderExtensions",
        ],
    ];

    private static readonly Assembly Core = typeof(IFanOutClient).Assembly;

    public static TheoryData<string> Namespaces() => [.. Layers[..^1].SelectMany(layer => layer)];

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void Namespace_UsesOnlyTheLayersBelowIt(string @namespace)
    {
        var forbidden = Forbidden(@namespace);

        var result = Types.InAssembly(Core)
            .That().ResideInNamespaceMatching("^" + System.Text.RegularExpressions.Regex.Escape(@namespace) + "$")
            .ShouldNot().HaveDependencyOnAny([.. forbidden])
            .GetResult();

        result.IsSuccessful.Should().BeTrue(
            "{0} sits below {1} in the layers of docs/design.md and must not use them, but these types do: {2}",
            @namespace,
            string.Join(", ", forbidden),
            string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void EveryNamespaceOfTheCore_HasAPlaceInTheLayers()
    {
        var placed = Layers[..^1].SelectMany(layer => layer).Append(DependencyInjection).ToHashSet(StringComparer.Ordinal);

        var unplaced = Core.GetTypes()
            .Where(t => t.Namespace is not null && !t.Name.StartsWith('<') && !IsCompilerMade(t))
            .Select(t => t.Namespace!)
            .Distinct()
            .Where(ns => !placed.Contains(ns))
            .ToList();

        unplaced.Should().BeEmpty("a new folder takes a place in the layers (this test's table and docs/design.md) before it holds code");
    }

    [Fact]
    public void LayerRule_WhenAnEdgeRunsUpward_NamesTheTypes()
    {
        // The rule can fail: the Jobs layer's codecs are used by Runs, above it, and that edge is reported as a type name.
        var result = Types.InAssembly(Core)
            .That().ResideInNamespaceMatching(@"^FanOut\.Hangfire\.Runs$")
            .ShouldNot().HaveDependencyOnAny($"{Root}.Jobs")
            .GetResult();

        result.IsSuccessful.Should().BeFalse();
        result.FailingTypeNames.Should().Contain("FanOut.Hangfire.Runs.FanOutRuns");
    }

    [Theory]
    [InlineData(typeof(IFanOutClient))]
    [InlineData(typeof(Microsoft.Extensions.DependencyInjection.FanOutDashboardBuilderExtensions))]
    [InlineData(typeof(Microsoft.Extensions.DependencyInjection.PostgreSqlFanOutBuilderExtensions))]
    public void ShippedAssemblies_OpenTheirInternalsToTestAssembliesOnly(Type typeInAssembly)
    {
        var friends = typeInAssembly.Assembly.GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName)
            .ToList();

        friends.Should().OnlyContain(
            name => name.EndsWith(".Tests", StringComparison.Ordinal) || name.EndsWith(".Testing", StringComparison.Ordinal)
                || name.EndsWith(".Benchmarks", StringComparison.Ordinal),
            "a package is built on the public API of the packages it uses, so that a new version of one cannot break another at run time");
    }

    [Fact]
    public void Core_ReferencesNoAspNetCoreAssembly()
    {
        var aspNetCore = Core.GetReferencedAssemblies().Where(a => a.Name!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();

        aspNetCore.Should().BeEmpty("a Worker Service with Hangfire.NetCore runs FanOut.Hangfire without ASP.NET Core; the dashboard is in FanOut.Hangfire.AspNetCore");
    }

    [Fact]
    public void PostgreSqlFastPath_ImplementsThePublicSeam()
    {
        var writer = typeof(Microsoft.Extensions.DependencyInjection.PostgreSqlFanOutBuilderExtensions).Assembly.GetTypes()
            .Where(t => typeof(IFanOutChunkWriter).IsAssignableFrom(t));

        writer.Should().ContainSingle("FanOut.Hangfire.PostgreSql plugs in through IFanOutChunkWriter, the core's public seam");
    }

    private static List<string> Forbidden(string @namespace)
    {
        var index = Array.FindIndex(Layers, layer => layer.Contains(@namespace));
        var peers = Layers[index].Where(ns => ns != @namespace);
        var above = Layers.Skip(index + 1).SelectMany(layer => layer);

        // The root namespace is the bottom layer, so every namespace under it that is not the root itself is above it.
        return [.. peers.Concat(above).Where(ns => ns != Root)];
    }

    private static bool IsCompilerMade(Type type) =>
        type.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), inherit: false)
        || type.Namespace is "Microsoft.CodeAnalysis" or "System.Runtime.CompilerServices" or "System.Text.RegularExpressions.Generated";
}
