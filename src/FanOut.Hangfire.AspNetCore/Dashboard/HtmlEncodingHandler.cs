using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Hangfire.Dashboard;

namespace FanOut.Hangfire.Dashboard;

/// <summary>Writes an interpolated string into an <see cref="HtmlBuilder"/>: literals as markup, values HTML-encoded.</summary>
[InterpolatedStringHandler]
internal readonly ref struct HtmlEncodingHandler
{
    private readonly StringBuilder _buffer;

    public HtmlEncodingHandler(int literalLength, int formattedCount, HtmlBuilder builder)
    {
        _ = literalLength;
        _ = formattedCount;
        _buffer = builder.Buffer;
    }

    public void AppendLiteral(string markup) => _buffer.Append(markup);

    public void AppendFormatted(NonEscapedString? markup) => _buffer.Append(markup?.ToString());

    public void AppendFormatted(string? text) => _buffer.Append(WebUtility.HtmlEncode(text));

    public void AppendFormatted<T>(T value) => AppendFormatted(value, format: null);

    public void AppendFormatted<T>(T value, string? format) =>
        _buffer.Append(WebUtility.HtmlEncode(value is IFormattable formattable
            ? formattable.ToString(format, CultureInfo.CurrentCulture)
            : value?.ToString()));
}
