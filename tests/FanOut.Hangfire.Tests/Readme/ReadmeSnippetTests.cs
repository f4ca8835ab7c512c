using FanOut.Hangfire.Tests.Infrastructure;

namespace FanOut.Hangfire.Tests.Readme;

/// <summary>
/// Every C# snippet of README.md compiles against the library as it is, in the app a reader pastes them into (see
/// <see cref="ReadmeSnippetCompiler"/> for how the snippets are put together). A block that is not meant to compile
/// says so in the README, with <c>&lt;!-- snippet: fragment --&gt;</c> right before its fence.
/// </summary>
public sealed class ReadmeSnippetTests
{
    private static readonly Lazy<IReadOnlyList<ReadmeSnippet>> ReadmeSnippets = new(() =>
        ReadmeSnippet.Extract(File.ReadAllText(Path.Combine(BuildOutput.RepositoryRoot, "README.md"))));

    private static readonly Lazy<ReadmeSnippetCompiler> Readme = new(() => new(ReadmeSnippets.Value));

    /// <summary>One case per C# snippet of README.md, named by its line, heading and first line.</summary>
    public static TheoryData<string> Snippets => [.. ReadmeSnippets.Value.Select(snippet => snippet.Name)];

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Readme_Snippet_Compiles(string snippet)
    {
        var theSnippet = ReadmeSnippets.Value.Single(s => s.Name == snippet);

        var errors = Readme.Value.ErrorsIn(theSnippet);

        if (errors.Count > 0)
        {
            Assert.Fail(ReadmeSnippetCompiler.Describe(theSnippet, errors));
        }
    }

    [Fact]
    public void Readme_HasTypeSnippetsAndProgramSnippets()
    {
        Readme.Value.TypeSnippets.Should().NotBeEmpty("the README declares a source and a handler");
        Readme.Value.ProgramSnippets.Should().NotBeEmpty("the README shows Program.cs");
    }

    [Fact]
    public void Snippet_WithACompileError_FailsNamingItsHeadingFirstLineAndTheErrorAtItsReadmeLine()
    {
        var snippets = ReadmeSnippet.Extract("""
            # Title

            ## Broken

            ```csharp
            builder.Services.AddFanOut()
                .AddCron<NoSuchSource>("a-cron", "* * * * *", sends: "app/event");
            ```
            """);
        var compiler = new ReadmeSnippetCompiler(snippets);

        var errors = compiler.ErrorsIn(snippets.Single());

        errors.Should().ContainSingle().Which.Id.Should().Be("CS0246", "NoSuchSource is declared nowhere");
        errors[0].Location.GetMappedLineSpan().StartLinePosition.Line.Should().Be(6, "the error is on README line 7");
        ReadmeSnippetCompiler.Describe(snippets.Single(), errors).Should()
            .Contain("line 5").And.Contain("\"Broken\"").And.Contain("`builder.Services.AddFanOut()`")
            .And.Contain("README.md(7,").And.Contain("NoSuchSource");
    }

    [Fact]
    public void ProgramFragment_UsingBuilderAndApp_CompilesAfterTheirDeclarations_WithTheTypeSnippets()
    {
        var snippets = ReadmeSnippet.Extract("""
            ```csharp
            using FanOut.Hangfire;

            public sealed class Ids : IFanOutSource<string>
            {
                public IAsyncEnumerable<string> GetItemsAsync(FanOutSourceContext context, CancellationToken cancellationToken) =>
                    new[] { "a" }.ToAsyncEnumerable();
            }
            ```

            ```csharp
            builder.Services.AddFanOut().AddCron<Ids>("ids-cron", "* * * * *", sends: "app/ids");
            app.MapGet("/", () => "ok");
            ```
            """);
        var compiler = new ReadmeSnippetCompiler(snippets);

        compiler.TypeSnippets.Should().ContainSingle();
        compiler.ProgramSnippets.Should().ContainSingle();
        snippets.SelectMany(compiler.ErrorsIn).Should().BeEmpty();
    }

    [Fact]
    public void Extract_ReturnsCSharpBlocksOnly_AndNoneMarkedAsAFragment()
    {
        var snippets = ReadmeSnippet.Extract("""
            ## Kept

            ```csharp
            var kept = 1;
            ```

            ```json
            { "FanOut": {} }
            ```

            ## Skipped

            <!-- snippet: fragment -->
            ```csharp
            not C# at all
            ```
            """);

        snippets.Should().ContainSingle().Which.Should().Be(new ReadmeSnippet("Kept", 3, "var kept = 1;\n"));
    }
}
