using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace FanOut.Hangfire.Tests.Readme;

/// <summary>
/// Compiles a Markdown file's C# snippets as the app a reader would paste them into (<see cref="ReadmeProject"/>).
/// <list type="bullet">
/// <item>A snippet with no top-level statements declares types (a source, a handler, a service): all of them compile
/// together, as the files of one project, with the types the README assumes (<see cref="ReadmeAssumptions"/>).</item>
/// <item>A snippet with top-level statements is a <c>Program.cs</c>: each compiles on its own, as the program, with
/// all the type snippets.</item>
/// <item>A <c>Program.cs</c> fragment that uses <c>builder</c> and declares nothing of that name continues
/// <c>var builder = WebApplication.CreateBuilder(args);</c>, which is put before its first statement. One that uses
/// <c>app</c> and declares neither <c>app</c> nor <c>builder</c> continues <c>var app = builder.Build();</c> as well
/// (with the <c>builder</c> line before it). Nothing else is added.</item>
/// </list>
/// Only errors fail a snippet, as in a project without TreatWarningsAsErrors. Diagnostics point at README lines.
/// </summary>
internal sealed class ReadmeSnippetCompiler
{
    private const string ReadmeFileName = "README.md";
    private const string BuilderLine = "var builder = WebApplication.CreateBuilder(args);";
    private const string AppLine = "var app = builder.Build();";

    private readonly SyntaxTree[] project;
    private readonly Dictionary<ReadmeSnippet, SyntaxTree> typeSnippets = [];
    private readonly Dictionary<ReadmeSnippet, SyntaxTree> programSnippets = [];
    private readonly Lazy<CSharpCompilation> types;

    public ReadmeSnippetCompiler(IEnumerable<ReadmeSnippet> snippets)
    {
        project =
        [
            Parse(ReadmeProject.GlobalUsings, ReadmeProject.GlobalUsingsFileName),
            Parse(ReadmeAssumptions.Source, ReadmeAssumptions.FileName),
        ];

        foreach (var snippet in snippets)
        {
            var root = CSharpSyntaxTree.ParseText(snippet.Code, ReadmeProject.ParseOptions).GetCompilationUnitRoot();
            var statements = root.Members.OfType<GlobalStatementSyntax>().ToList();
            if (statements.Count == 0)
            {
                typeSnippets.Add(snippet, Parse(AtReadmeLine(snippet.FirstCodeLine) + snippet.Code, ReadmeFileName));
            }
            else
            {
                programSnippets.Add(snippet, Parse(ProgramText(snippet, root, statements), ReadmeFileName));
            }
        }

        types = new(() => Compile(OutputKind.DynamicallyLinkedLibrary, typeSnippets.Values));
    }

    /// <summary>The snippets that declare types.</summary>
    public IReadOnlyCollection<ReadmeSnippet> TypeSnippets => typeSnippets.Keys;

    /// <summary>The snippets that are (part of) a <c>Program.cs</c>.</summary>
    public IReadOnlyCollection<ReadmeSnippet> ProgramSnippets => programSnippets.Keys;

    /// <summary>
    /// The compile errors that are the snippet's: those in its own lines, and those in no snippet (in the project
    /// around them). Errors in another snippet are that snippet's.
    /// </summary>
    public IReadOnlyList<Diagnostic> ErrorsIn(ReadmeSnippet snippet)
    {
        SyntaxTree tree;
        CSharpCompilation compilation;
        if (typeSnippets.TryGetValue(snippet, out var typeTree))
        {
            (tree, compilation) = (typeTree, types.Value);
        }
        else if (programSnippets.TryGetValue(snippet, out var programTree))
        {
            (tree, compilation) = (programTree, Compile(OutputKind.ConsoleApplication, [.. typeSnippets.Values, programTree]));
        }
        else
        {
            throw new ArgumentException($"The snippet at {snippet.Name} is not one this compiler was given.", nameof(snippet));
        }

        return compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Where(d => d.Location.SourceTree is not { } at || at == tree || project.Contains(at))
            .ToList();
    }

    /// <summary>A failure message that names the snippet and lists its errors.</summary>
    public static string Describe(ReadmeSnippet snippet, IEnumerable<Diagnostic> errors) =>
        $"The C# snippet of {ReadmeFileName} at line {snippet.FenceLine}, under \"{snippet.Heading}\", starting " +
        $"`{snippet.FirstLine}`, does not compile:\n" +
        string.Concat(errors.Select(error => $"  {error}\n"));

    private CSharpCompilation Compile(OutputKind kind, IEnumerable<SyntaxTree> snippets) =>
        CSharpCompilation.Create(
            "ReadmeSnippets",
            [.. project, .. snippets],
            ReadmeProject.References,
            ReadmeProject.CompilationOptions(kind));

    private static string ProgramText(ReadmeSnippet snippet, CompilationUnitSyntax root, List<GlobalStatementSyntax> statements)
    {
        var declared = statements.SelectMany(s => s.DescendantNodesAndSelf()).SelectMany(DeclaredNames).ToHashSet();
        var used = statements.SelectMany(s => s.DescendantNodes().OfType<IdentifierNameSyntax>())
            .Select(name => name.Identifier.ValueText).ToHashSet();
        bool Continues(string name) => used.Contains(name) && !declared.Contains(name);

        var afterApp = Continues("app") && !declared.Contains("builder");
        var afterBuilder = afterApp || Continues("builder");

        var text = root.SyntaxTree.GetText();
        var firstStatementLine = text.Lines.GetLineFromPosition(statements[0].GetFirstToken().SpanStart);
        var code = new StringBuilder()
            .Append(AtReadmeLine(snippet.FirstCodeLine))
            .Append(snippet.Code, 0, firstStatementLine.Start);

        if (afterBuilder)
        {
            code.Append("#line hidden\n").Append(BuilderLine).Append('\n');
            if (afterApp)
            {
                code.Append(AppLine).Append('\n');
            }

            code.Append(AtReadmeLine(snippet.FirstCodeLine + firstStatementLine.LineNumber));
        }

        return code.Append(snippet.Code, firstStatementLine.Start, snippet.Code.Length - firstStatementLine.Start).ToString();
    }

    private static IEnumerable<string> DeclaredNames(SyntaxNode node) => node switch
    {
        VariableDeclaratorSyntax variable => [variable.Identifier.ValueText],
        SingleVariableDesignationSyntax designation => [designation.Identifier.ValueText],
        ParameterSyntax parameter => [parameter.Identifier.ValueText],
        _ => [],
    };

    // Maps the lines that follow to the README's, so diagnostics name README lines.
    private static string AtReadmeLine(int line) => $"#line {line} \"{ReadmeFileName}\"\n";

    private static SyntaxTree Parse(string text, string path) =>
        CSharpSyntaxTree.ParseText(text, ReadmeProject.ParseOptions, path, Encoding.UTF8);
}
