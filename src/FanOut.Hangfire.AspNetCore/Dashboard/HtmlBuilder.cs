using System.Runtime.CompilerServices;
using System.Text;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// Builds a page's HTML from interpolated strings whose values are HTML-encoded, all of them: ids, item keys and error
/// messages are user data. Only <see cref="NonEscapedString"/> values (markup from Hangfire's helpers or from this
/// builder) go in as they are.
/// </summary>
internal sealed class HtmlBuilder
{
    internal StringBuilder Buffer { get; } = new();

    public HtmlBuilder Append([InterpolatedStringHandlerArgument("")] ref HtmlEncodingHandler html)
    {
        _ = html;
        return this;
    }

    public HtmlBuilder Append(NonEscapedString markup)
    {
        ArgumentNullException.ThrowIfNull(markup);
        Buffer.Append(markup.ToString());
        return this;
    }

    public NonEscapedString ToHtml() => new(Buffer.ToString());

    public override string ToString() => Buffer.ToString();
}
