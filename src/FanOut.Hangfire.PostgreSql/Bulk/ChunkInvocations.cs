using System.Reflection;
using Hangfire.Common;
using Hangfire.Storage;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The invocation data of a chunk's jobs, as <see cref="InvocationData.SerializeJob"/> makes it: the job's type, method
/// and parameter types, and each argument serialized with Hangfire's user serializer settings. A chunk's jobs share their
/// type and method, and most of their arguments (the handler's id, the run's id): a string argument equal to the one the
/// previous job had at that place is not serialized again. For the first job of each type and method in the chunk, the
/// result is compared with Hangfire's own; if it differs (a Hangfire configuration this does not know of), the chunk's
/// jobs of that type are serialized by Hangfire, as are jobs with an argument whose serialization depends on Hangfire's
/// compatibility level (a <see cref="DateTime"/>). One instance per chunk, used on one thread at a time.
/// </summary>
internal sealed class ChunkInvocations
{
    private readonly Dictionary<(Type Type, MethodInfo Method), Shape?> _shapes = [];

    public InvocationData Of(Job job)
    {
        if (_shapes.TryGetValue((job.Type, job.Method), out var shape))
        {
            return shape?.Serialize(job) ?? InvocationData.SerializeJob(job);
        }

        var hangfires = InvocationData.SerializeJob(job);
        shape = new Shape(job.Method.GetParameters(), hangfires.Type, hangfires.Method, hangfires.ParameterTypes);
        _shapes.Add((job.Type, job.Method), shape.Serialize(job) is { } ours && Same(ours, hangfires) ? shape : null);
        return hangfires;
    }

    private static bool Same(InvocationData ours, InvocationData hangfires) =>
        ours.Type == hangfires.Type && ours.Method == hangfires.Method && ours.ParameterTypes == hangfires.ParameterTypes &&
        ours.Arguments == hangfires.Arguments && ours.Queue == hangfires.Queue;

    /// <summary>A job type and method: its serialized names, and the last string argument serialized at each place.</summary>
    private sealed class Shape(ParameterInfo[] parameters, string type, string method, string parameterTypes)
    {
        private readonly string?[] _lastValues = new string?[parameters.Length];
        private readonly string?[] _lastJson = new string?[parameters.Length];

        /// <summary>What <see cref="InvocationData.SerializeJob"/> gives for <paramref name="job"/>, or null where this cannot tell.</summary>
        public InvocationData? Serialize(Job job)
        {
            var args = job.Args;
            if (args.Count == 0)
            {
                return new InvocationData(type, method, parameterTypes, "[]", job.Queue);
            }

            if (args.Count != parameters.Length)
            {
                return null;
            }

            var serialized = new string?[args.Count];
            for (var i = 0; i < serialized.Length; i++)
            {
                switch (args[i])
                {
                    case null or CancellationToken:
                        // Hangfire stores no value for a cancellation token: the worker passes its own.
                        serialized[i] = null;
                        break;
                    case DateTime:
                        return null;
                    case string text when _lastValues[i] is { } last && string.Equals(text, last, StringComparison.Ordinal):
                        serialized[i] = _lastJson[i];
                        break;
                    case string text:
                        serialized[i] = _lastJson[i] = SerializationHelper.Serialize(text, parameters[i].ParameterType, SerializationOption.User);
                        _lastValues[i] = text;
                        break;
                    case var other:
                        serialized[i] = SerializationHelper.Serialize(other, parameters[i].ParameterType, SerializationOption.User);
                        break;
                }
            }

            return new InvocationData(type, method, parameterTypes, SerializationHelper.Serialize(serialized), job.Queue);
        }
    }
}
