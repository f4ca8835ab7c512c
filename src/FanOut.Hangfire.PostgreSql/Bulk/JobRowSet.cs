namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The rows a batch of a chunk's jobs adds to the job, job parameter, state and job queue tables, column by column, each
/// value serialized as Hangfire.PostgreSql stores it, as <see cref="ChunkStatements.Inserts"/> sends them: one array a
/// column, filled in one pass over the jobs (without an intermediate list a table), on the dispatching thread, so the
/// thread sending them only builds the statements.
/// </summary>
internal sealed class JobRowSet
{
    public required long[] JobIds { get; init; }

    public required long?[] JobStateIds { get; init; }

    public required string?[] JobStateNames { get; init; }

    public required string[] JobInvocations { get; init; }

    public required string[] JobArguments { get; init; }

    public required DateTime[] JobCreatedAt { get; init; }

    /// <summary>When each job row expires on the client's clock, or null (persisted, or see <see cref="JobExpireIn"/>).</summary>
    public required DateTime?[] JobExpireAt { get; init; }

    /// <summary>Expiries counted from the database's clock of the chunk's transaction, in seconds.</summary>
    public required long?[] JobExpireIn { get; init; }

    public required long[] ParameterJobIds { get; init; }

    public required string[] ParameterNames { get; init; }

    public required string?[] ParameterValues { get; init; }

    public required long[] StateIds { get; init; }

    public required long[] StateJobIds { get; init; }

    public required string[] StateNames { get; init; }

    public required string?[] StateReasons { get; init; }

    public required DateTime[] StateCreatedAt { get; init; }

    public required string[] StateData { get; init; }

    public required long[] QueueJobIds { get; init; }

    public required string[] Queues { get; init; }

    /// <summary>The values of the rows of <paramref name="jobs"/>, serialized as Hangfire.PostgreSql stores them.</summary>
    public static JobRowSet Of(IReadOnlyList<RecordedJob> jobs, ChunkInvocations chunkInvocations, RowJson json)
    {
        var count = jobs.Count;
        var ids = new long[count];
        var currentStates = new long?[count];
        var stateNames = new string?[count];
        var invocations = new string[count];
        var arguments = new string[count];
        var createdAt = new DateTime[count];
        var expireAt = new DateTime?[count];
        var expireIn = new long?[count];
        int parameterCount = 0, stateCount = 0, queueCount = 0;
        for (var i = 0; i < count; i++)
        {
            var job = jobs[i];
            var invocation = chunkInvocations.Of(job.Job);
            ids[i] = job.Id;
            currentStates[i] = job.CurrentState?.Id;
            stateNames[i] = job.CurrentState?.Name;
            invocations[i] = ChunkStatements.Json(json.Invocation(invocation), "{}");
            arguments[i] = ChunkStatements.Json(invocation.Arguments, "[]");
            createdAt[i] = job.CreatedAt;
            expireAt[i] = job.ExpireAt;
            expireIn[i] = job.ExpireInSeconds;
            parameterCount += job.Parameters.Count;
            stateCount += job.States.Count;
            queueCount += job.Queues.Count;
        }

        var parameterJobIds = new long[parameterCount];
        var parameterNames = new string[parameterCount];
        var parameterValues = new string?[parameterCount];
        var stateIds = new long[stateCount];
        var stateJobIds = new long[stateCount];
        var states = new string[stateCount];
        var stateReasons = new string?[stateCount];
        var stateCreatedAt = new DateTime[stateCount];
        var stateData = new string[stateCount];
        var queueJobIds = new long[queueCount];
        var queues = new string[queueCount];
        int p = 0, s = 0, q = 0;
        foreach (var job in jobs)
        {
            foreach (var (name, value) in job.Parameters)
            {
                (parameterJobIds[p], parameterNames[p], parameterValues[p]) = (job.Id, name, value);
                p++;
            }

            foreach (var state in job.States)
            {
                (stateIds[s], stateJobIds[s], states[s], stateReasons[s]) = (state.Id, job.Id, state.Name, state.Reason);
                (stateCreatedAt[s], stateData[s]) = (state.CreatedAt, ChunkStatements.Json(state.Data, "{}"));
                s++;
            }

            foreach (var queue in job.Queues)
            {
                (queueJobIds[q], queues[q]) = (job.Id, queue);
                q++;
            }
        }

        return new JobRowSet
        {
            JobIds = ids,
            JobStateIds = currentStates,
            JobStateNames = stateNames,
            JobInvocations = invocations,
            JobArguments = arguments,
            JobCreatedAt = createdAt,
            JobExpireAt = expireAt,
            JobExpireIn = expireIn,
            ParameterJobIds = parameterJobIds,
            ParameterNames = parameterNames,
            ParameterValues = parameterValues,
            StateIds = stateIds,
            StateJobIds = stateJobIds,
            StateNames = states,
            StateReasons = stateReasons,
            StateCreatedAt = stateCreatedAt,
            StateData = stateData,
            QueueJobIds = queueJobIds,
            Queues = queues,
        };
    }
}
