using System.Reflection;

namespace FanOut.Hangfire.Tests.Infrastructure;

/// <summary>
/// Where the tests find the repository and the projects they start as processes (the test host, the samples). Those
/// projects are built with the tests, as project references the test assembly does not load, so they are built in the
/// same configuration and their output sits at the same place under their project folder as the tests' output under
/// this one (bin/Release/net10.0, say).
/// </summary>
public static class BuildOutput
{
    private const string TestsProjectFile = "FanOut.Hangfire.Tests.csproj";
    private const string SolutionFile = "FanOut.Hangfire.sln";

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private static readonly Lazy<string[]> TestsOutputUnderProject = new(FindTestsOutputUnderProject);

    /// <summary>The folder that holds FanOut.Hangfire.sln.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>The configuration the tests were built in, Debug or Release (written into the assembly by the build).</summary>
    public static string Configuration { get; } =
        typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == "Configuration")?.Value
        ?? throw new InvalidOperationException(
            $"The test assembly carries no Configuration metadata; {TestsProjectFile} writes it with <AssemblyMetadata Include=\"Configuration\" />.");

    /// <summary>
    /// A file of another project's build output, such as <c>("samples/FanOut.Hangfire.WorkerSample",
    /// "FanOut.Hangfire.WorkerSample.dll")</c>; fails naming the build to run when it is missing.
    /// </summary>
    /// <param name="projectFolder">The project's folder, relative to the repository root, with '/' between folders.</param>
    /// <param name="fileName">The file in that project's output folder.</param>
    public static string PathOf(string projectFolder, string fileName)
    {
        var path = Path.Combine([RepositoryRoot, .. projectFolder.Split('/'), .. TestsOutputUnderProject.Value, fileName]);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"{fileName} was not found at {path}. It is built with the tests: build {TestsProjectFile} " +
                $"(or {SolutionFile}) with the same configuration as the tests ({Configuration}).",
                path);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No {SolutionFile} above the tests' output {AppContext.BaseDirectory}.");
    }

    private static string[] FindTestsOutputUnderProject()
    {
        var testsOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var relative = new Stack<string>();
        for (var directory = testsOutput; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, TestsProjectFile)))
            {
                return [.. relative];
            }

            relative.Push(directory.Name);
        }

        throw new InvalidOperationException(
            $"The tests' output {testsOutput.FullName} is not inside the folder of {TestsProjectFile}, so the output of the " +
            "projects built with them cannot be found next to it.");
    }
}
