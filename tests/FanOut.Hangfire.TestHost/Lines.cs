namespace FanOut.Hangfire.TestHost;

/// <summary>
/// What the host tells the test that started it: one line per event on standard output, fields separated by '|'
/// (<c>ready|{pid}</c>, <c>triggered|{fanOutId}|{id}</c>, <c>job-failed|...</c>, <c>log|...</c>).
/// </summary>
internal static class Lines
{
    private static readonly Lock Gate = new();

    public static void Write(params string[] fields)
    {
        var line = string.Join('|', fields.Select(OneLine));
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    private static string OneLine(string field) => field.ReplaceLineEndings(" ").Replace('|', '/');
}
