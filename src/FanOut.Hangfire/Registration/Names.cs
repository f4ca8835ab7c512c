namespace FanOut.Hangfire.Registration;

/// <summary>The rules for ids, event names and queue names, checked where they enter.</summary>
internal static class Names
{
    public const int MaxLength = 100;

    // Ids and event names become parts of storage keys and recurring job ids, where ':' separates parts.
    public static string? IdProblem(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "is empty";
        }

        if (value.Length > MaxLength)
        {
            return $"is longer than {MaxLength} characters";
        }

        foreach (var ch in value)
        {
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' or '/'))
            {
                return $"contains '{ch}'; use letters, digits, '-', '_', '.' and '/'";
            }
        }

        return null;
    }

    // Hangfire's own rule for queue names (EnqueuedState.ValidateQueueName).
    public static string? QueueProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "is empty";
        }

        foreach (var ch in value)
        {
            if (!(char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '_' or '-'))
            {
                return $"contains '{ch}'; Hangfire queue names use lowercase letters, digits, '_' and '-'";
            }
        }

        return null;
    }

    public static void ThrowIfInvalidId(string? value, string what, string paramName)
    {
        var problem = IdProblem(value);
        if (problem is not null)
        {
            throw new ArgumentException($"The {what} '{value}' {problem}.", paramName);
        }
    }
}
