using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using FanOut.Hangfire.Storage;
using Hangfire.Common;

namespace FanOut.Hangfire.Jobs;

/// <summary>
/// The stored shape of one of the library's jobs: its type, its method, and the order of its arguments. The same code
/// writes a job's arguments when the job is created and reads them back into a record, so nothing else indexes
/// <see cref="Job.Args"/>. What a codec writes is a stored contract (jobs queued by one version run on the next), pinned
/// by a contract test: a type name, method name or parameter list never changes once released.
/// </summary>
/// <typeparam name="TArgs">The record the job's arguments read into.</typeparam>
internal abstract class JobCodec<TArgs>
    where TArgs : class
{
    protected JobCodec(Type type, string methodName)
    {
        Type = type;
        Method = type.GetMethod(methodName) ?? throw new InvalidOperationException($"{type.FullName} has no method {methodName}.");
        ParameterCount = Method.GetParameters().Length;
    }

    /// <summary>The job's class, as Hangfire stores it.</summary>
    public Type Type { get; }

    /// <summary>The job's method, as Hangfire stores it.</summary>
    public MethodInfo Method { get; }

    private int ParameterCount { get; }

    /// <summary>A job with <paramref name="args"/>, on <paramref name="queue"/> where the storage keeps a job's queue.</summary>
    public Job Create(HangfireServices hangfire, TArgs args, string queue) => hangfire.CreateJob(Type, Method, Write(args), queue);

    /// <summary>Reads a stored job's arguments, when it is a job of this kind.</summary>
    public bool TryRead(Job? job, [NotNullWhen(true)] out TArgs? args)
    {
        args = job is not null && job.Type == Type && job.Method.Name == Method.Name && job.Args.Count == ParameterCount
            ? Read(job.Args)
            : null;
        return args is not null;
    }

    /// <summary>The job method's arguments for <paramref name="args"/>, in the method's parameter order.</summary>
    protected abstract object?[] Write(TArgs args);

    /// <summary>The record for a stored job's arguments, or null when they are not what this kind stores.</summary>
    protected abstract TArgs? Read(IReadOnlyList<object?> arguments);
}
