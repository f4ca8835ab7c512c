using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hangfire.Common;
using Hangfire.Storage;

namespace FanOut.Hangfire.PostgreSql.Bulk;

/// <summary>
/// The JSON of a chunk's <c>jsonb</c> columns: a job's invocation data and a state's data. Hangfire.PostgreSql serializes
/// them with Hangfire's Newtonsoft serializer, which builds a serializer and a writer for every value; PostgreSQL parses
/// <c>jsonb</c> on the way in and stores the parsed document, so any JSON text of the same document makes the same row,
/// and these are written with one reused <see cref="Utf8JsonWriter"/> instead. The first value of each kind in a chunk is
/// also serialized Hangfire's way and the two documents compared; if they differ (a Hangfire configuration that changes
/// how they are serialized), the chunk uses Hangfire's serializer for that kind. A state with a null value, or invocation
/// data with a null part, always does: Hangfire leaves such members out, and the rows stay exactly its own.
/// One instance per chunk, used on one thread at a time.
/// </summary>
internal sealed class RowJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> _buffer = new(1024);
    private readonly Utf8JsonWriter _writer;
    private Check _stateData;
    private Check _invocation;

    public RowJson() => _writer = new Utf8JsonWriter(_buffer, Options);

    private enum Check
    {
        Unchecked,
        Same,
        Differs,
    }

    /// <summary>The JSON of <see cref="global::Hangfire.States.IState.SerializeData"/>, as the state table's <c>data</c> holds it.</summary>
    public string StateData(Dictionary<string, string> data)
    {
        if (_stateData == Check.Differs || data.ContainsValue(null!))
        {
            return SerializationHelper.Serialize(data);
        }

        Start();
        _writer.WriteStartObject();
        foreach (var (name, value) in data)
        {
            _writer.WriteString(name, value);
        }

        _writer.WriteEndObject();
        return Finish(ref _stateData, static d => SerializationHelper.Serialize(d), data);
    }

    /// <summary>The JSON of <paramref name="invocation"/>, as the job table's <c>invocationdata</c> holds it.</summary>
    public string Invocation(InvocationData invocation)
    {
        if (_invocation == Check.Differs || invocation.Type is null || invocation.Method is null || invocation.ParameterTypes is null || invocation.Arguments is null)
        {
            return SerializationHelper.Serialize(invocation);
        }

        Start();
        _writer.WriteStartObject();
        _writer.WriteString("Type", invocation.Type);
        _writer.WriteString("Method", invocation.Method);
        _writer.WriteString("ParameterTypes", invocation.ParameterTypes);
        _writer.WriteString("Arguments", invocation.Arguments);
        if (invocation.Queue is not null)
        {
            _writer.WriteString("Queue", invocation.Queue);
        }

        _writer.WriteEndObject();
        return Finish(ref _invocation, static i => SerializationHelper.Serialize(i), invocation);
    }

    private void Start()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset();
    }

    private string Finish<T>(ref Check check, Func<T, string> hangfires, T value)
    {
        _writer.Flush();
        var json = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        if (check == Check.Unchecked)
        {
            var theirs = hangfires(value);
            check = JsonNode.DeepEquals(JsonNode.Parse(json), JsonNode.Parse(theirs)) ? Check.Same : Check.Differs;
            if (check == Check.Differs)
            {
                return theirs;
            }
        }

        return json;
    }
}
