namespace FanOut.Hangfire;

/// <summary>
/// Thrown when a streamed send fails part-way. The items sent before the failure stay sent, as part of
/// <see cref="RunId"/>.
/// </summary>
public sealed class FanOutSendException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="FanOutSendException"/> class.</summary>
    public FanOutSendException()
        : this("A streamed send failed part-way.", string.Empty, 0, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FanOutSendException"/> class.</summary>
    /// <param name="message">The message.</param>
    public FanOutSendException(string message)
        : this(message, string.Empty, 0, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FanOutSendException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The failure that stopped the send.</param>
    public FanOutSendException(string message, Exception? innerException)
        : this(message, string.Empty, 0, innerException)
    {
    }

    internal FanOutSendException(string message, string runId, long itemsSent, Exception? innerException)
        : base(message, innerException)
    {
        RunId = runId;
        ItemsSent = itemsSent;
    }

    /// <summary>Gets the id of the run the sent items belong to.</summary>
    public string RunId { get; }

    /// <summary>Gets how many items were sent (and stay sent) before the failure.</summary>
    public long ItemsSent { get; }
}
