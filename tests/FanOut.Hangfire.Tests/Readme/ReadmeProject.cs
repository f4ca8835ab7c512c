using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace FanOut.Hangfire.Tests.Readme;

/// <summary>
/// The project a README reader pastes the snippets into: an ASP.NET Core app on .NET 10 (<c>dotnet new web</c>) with
/// nullable reference types on, the Web SDK's implicit usings, and the packages the README installs. Its references
/// are what this test process runs on: the shared frameworks (Microsoft.NETCore.App and Microsoft.AspNetCore.App,
/// which the tests reference) and every assembly in the tests' output folder (FanOut.Hangfire and its satellites,
/// Hangfire.*, Npgsql, ...).
/// </summary>
internal static class ReadmeProject
{
    /// <summary>The file name of the implicit usings, as the SDK generates them.</summary>
    public const string GlobalUsingsFileName = "GlobalUsings.g.cs";

    /// <summary>The Web SDK's implicit usings (Microsoft.NET.Sdk.Web with <c>ImplicitUsings</c> on).</summary>
    public static readonly string GlobalUsings = string.Concat(
        new[]
        {
            "System",
            "System.Collections.Generic",
            "System.IO",
            "System.Linq",
            "System.Net.Http",
            "System.Net.Http.Json",
            "System.Threading",
            "System.Threading.Tasks",
            "Microsoft.AspNetCore.Builder",
            "Microsoft.AspNetCore.Hosting",
            "Microsoft.AspNetCore.Http",
            "Microsoft.AspNetCore.Routing",
            "Microsoft.Extensions.Configuration",
            "Microsoft.Extensions.DependencyInjection",
            "Microsoft.Extensions.Hosting",
            "Microsoft.Extensions.Logging",
        }.Select(ns => $"global using global::{ns};\n"));

    /// <summary>C# 14, the language version of .NET 10.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp14);

    private static readonly Lazy<IReadOnlyList<MetadataReference>> LazyReferences = new(LoadReferences);

    /// <summary>The assemblies the snippets compile against, one per assembly name.</summary>
    public static IReadOnlyList<MetadataReference> References => LazyReferences.Value;

    /// <summary>The options of the compilation: a console app (a Program.cs) or a library (the types alone).</summary>
    /// <remarks>
    /// CS1701 and CS1702 (a reference built against another version of an assembly) are the warnings the SDK
    /// silences; the shared framework's implementation assemblies raise them here.
    /// </remarks>
    public static CSharpCompilationOptions CompilationOptions(OutputKind kind) =>
        new CSharpCompilationOptions(kind)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
            {
                ["CS1701"] = ReportDiagnostic.Suppress,
                ["CS1702"] = ReportDiagnostic.Suppress,
            });

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var trustedPlatformAssemblies = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES"))?
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries) ?? [];
        var outputFolder = Directory.GetFiles(AppContext.BaseDirectory, "*.dll");

        // The tests themselves are no part of a user's app.
        var testAssembly = Path.GetFileName(typeof(ReadmeProject).Assembly.Location);

        return trustedPlatformAssemblies.Concat(outputFolder)
            .Where(path => !string.Equals(Path.GetFileName(path), testAssembly, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(path => Path.GetFileNameWithoutExtension(path), StringComparer.OrdinalIgnoreCase)
            .Where(HasMetadata)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToList();
    }

    private static bool HasMetadata(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new PEReader(stream);
        try
        {
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
