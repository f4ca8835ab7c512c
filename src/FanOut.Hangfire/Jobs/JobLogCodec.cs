using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The stored form of what a handler logged during one attempt, kept as the raw value of the job parameter
/// <c>FanOut.Log.{attempt}</c> (<see cref="JobParameters.Log"/>), so it is deleted with its job by every storage. JSON
/// Lines, readable as they are on Hangfire's job page: a first line <c>{"dropped":N}</c> when earlier lines were dropped,
/// then one object per line, oldest first: <c>t</c> the time (round-trip format), <c>l</c> the level's name, <c>c</c> the
/// category, <c>m</c> the message, and <c>e</c> the exception when one was logged. A stored contract: it never changes
/// once released.
/// </summary>
internal static class JobLogCodec
{
    public const string DroppedProperty = "dropped";
    public const string TimeProperty = "t";
    public const string LevelProperty = "l";
    public const string CategoryProperty = "c";
    public const string MessageProperty = "m";
    public const string ExceptionProperty = "e";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Encode(IReadOnlyCollection<FanOutLogEntry> entries, int dropped)
    {
        using var buffer = new MemoryStream();
        if (dropped > 0)
        {
            WriteLine(buffer, writer => writer.WriteNumber(DroppedProperty, dropped));
        }

        foreach (var entry in entries)
        {
            WriteLine(buffer, writer =>
            {
                writer.WriteString(TimeProperty, entry.Timestamp.ToString("O", CultureInfo.InvariantCulture));
                writer.WriteString(LevelProperty, entry.Level.ToString());
                writer.WriteString(CategoryProperty, entry.Category);
                writer.WriteString(MessageProperty, entry.Message);
                if (entry.Exception is not null)
                {
                    writer.WriteString(ExceptionProperty, entry.Exception);
                }
            });
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).TrimEnd('\n');
    }

    /// <summary>Reads a stored log back; null for a value that is not one (absent, or written by something else).</summary>
    public static FanOutJobLog? Decode(string jobId, int attempt, string? stored)
    {
        if (string.IsNullOrEmpty(stored))
        {
            return null;
        }

        var entries = new List<FanOutLogEntry>();
        var dropped = 0;
        try
        {
            foreach (var line in stored.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.TryGetProperty(DroppedProperty, out var count))
                {
                    dropped = count.GetInt32();
                    continue;
                }

                entries.Add(new FanOutLogEntry(
                    DateTimeOffset.TryParse(Text(root, TimeProperty), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : default,
                    Enum.TryParse<LogLevel>(Text(root, LevelProperty), out var level) ? level : LogLevel.Information,
                    Text(root, CategoryProperty) ?? string.Empty,
                    Text(root, MessageProperty) ?? string.Empty,
                    Text(root, ExceptionProperty)));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }

        return new FanOutJobLog(jobId, attempt, entries, dropped);
    }

    private static void WriteLine(MemoryStream buffer, Action<Utf8JsonWriter> write)
    {
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
    }

    private static string? Text(JsonElement root, string property) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
