using System.Text.RegularExpressions;

namespace FanOut.Hangfire.Tests.Readme;

/// <summary>
/// One C# code block of a Markdown file: its text, the README line of its opening fence and the heading it sits under,
/// which together name it in a failure.
/// </summary>
/// <param name="Heading">The text of the nearest heading above the block, or <c>(top)</c> before any heading.</param>
/// <param name="FenceLine">The 1-based line of the opening fence; the code starts on the line after it.</param>
/// <param name="Code">The block's lines, without the fences, with the fence's indentation removed.</param>
internal sealed partial record ReadmeSnippet(string Heading, int FenceLine, string Code)
{
    private static readonly string[] CSharpInfoStrings = ["csharp", "cs", "c#"];

    /// <summary>The 1-based line of the block's first line of code.</summary>
    public int FirstCodeLine => FenceLine + 1;

    /// <summary>The block's first line that is not blank, which a reader recognises it by.</summary>
    public string FirstLine =>
        Code.Split('\n').Select(line => line.Trim()).FirstOrDefault(line => line.Length > 0) ?? "(empty)";

    /// <summary>How a test case and a failure name the block, for example <c>line 28, "Quick start": using Hangfire;</c>.</summary>
    public string Name => $"line {FenceLine}, \"{Heading}\": {FirstLine}";

    /// <summary>
    /// Every fenced block tagged <c>csharp</c> (or <c>cs</c>, <c>c#</c>) in <paramref name="markdown"/>, in order, except
    /// those right after a <c>&lt;!-- snippet: fragment --&gt;</c> comment: the README's explicit, visible way to say a
    /// block is not meant to compile. Blocks in other languages (JSON, shell) are not returned.
    /// </summary>
    public static IReadOnlyList<ReadmeSnippet> Extract(string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var snippets = new List<ReadmeSnippet>();
        var heading = "(top)";
        var previousLine = "";

        for (var index = 0; index < lines.Length; index++)
        {
            var fence = Fence().Match(lines[index]);
            if (!fence.Success)
            {
                var atx = HeadingLine().Match(lines[index]);
                if (atx.Success)
                {
                    heading = atx.Groups["text"].Value.Trim();
                }

                if (lines[index].Trim().Length > 0)
                {
                    previousLine = lines[index].Trim();
                }

                continue;
            }

            var fenceIndex = index;
            var indent = fence.Groups["indent"].Value.Length;
            var marks = fence.Groups["marks"].Value;
            var code = new List<string>();
            for (index++; index < lines.Length && !IsClosing(lines[index], marks); index++)
            {
                code.Add(Unindent(lines[index], indent));
            }

            var language = fence.Groups["info"].Value.Trim().Split(' ', 2)[0];
            var isCSharp = CSharpInfoStrings.Contains(language, StringComparer.OrdinalIgnoreCase);
            if (isCSharp && !FragmentMarker().IsMatch(previousLine))
            {
                snippets.Add(new ReadmeSnippet(heading, fenceIndex + 1, string.Join('\n', code) + "\n"));
            }

            previousLine = "";
        }

        return snippets;
    }

    private static bool IsClosing(string line, string openingMarks)
    {
        var trimmed = line.Trim();
        return trimmed.Length >= openingMarks.Length && trimmed.All(c => c == openingMarks[0]);
    }

    private static string Unindent(string line, int indent)
    {
        var spaces = line.TakeWhile(c => c == ' ').Count();
        return line[Math.Min(spaces, indent)..];
    }

    [GeneratedRegex(@"^(?<indent> *)(?<marks>`{3,}|~{3,})(?<info>[^`]*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^ {0,3}#{1,6}\s+(?<text>.*?)(?:\s+#+)?\s*$")]
    private static partial Regex HeadingLine();

    [GeneratedRegex(@"^<!--\s*snippet:\s*fragment\b.*-->$")]
    private static partial Regex FragmentMarker();
}
