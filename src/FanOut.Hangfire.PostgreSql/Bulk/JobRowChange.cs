namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>What a batch of state changes leaves on an existing job's row: its current state, and its expiry.</summary>
internal sealed class JobRowChange(long id)
{
    public long Id { get; } = id;

    /// <summary>The state <c>SetJobState</c> made current, if any; its id is given when the batch is sent.</summary>
    public RecordedState? CurrentState { get; set; }

    public JobExpiry Expiry { get; set; }

    /// <summary>With <see cref="JobExpiry.Expire"/>: seconds from the database's clock, as <c>ExpireJob</c> counts them.</summary>
    public long? ExpireInSeconds { get; set; }
}

/// <summary>The last of <c>ExpireJob</c> and <c>PersistJob</c> a job was given in the transaction, if any (values stored as such in the statement).</summary>
internal enum JobExpiry
{
    Unchanged = 0,
    Persist = 1,
    Expire = 2,
}
