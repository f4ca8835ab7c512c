using System.Text.Json.Nodes;
using FanOut.Hangfire.PostgreSql.Bulk;
using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace FanOut.Hangfire.PostgreSql.Tests.Bulk;

/// <summary>
/// The fast path's own serialization of a chunk's rows against Hangfire's: the invocation data of every job is exactly
/// <see cref="InvocationData.SerializeJob"/>'s, and the jsonb documents are the ones Hangfire's serializer makes.
/// </summary>
public sealed class ChunkSerializationTests
{
    private static readonly DateTime When = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public static TheoryData<string> Texts => new()
    {
        "plain",
        string.Empty,
        "quote \" backslash \\ slash / tab \t newline \n",
        "non-ASCII: é 中文 😀 \u2028 \u0085 <script>&'",
        "{\"id\":1,\"name\":\"x\"}",
    };

    [Fact]
    public void Invocations_ManyJobsWithRepeatedAndChangingArguments_AreExactlyHangfires()
    {
        var invocations = new ChunkInvocations();
        var jobs = new List<Job>();
        for (var i = 0; i < 50; i++)
        {
            var handler = i < 25 ? "handler" : "other handler";
            var item = $"{{\"n\":{i % 3}}}";
            var key = i % 7 == 0 ? null : "key-" + (i / 2);
            var number = i % 4;
            jobs.Add(Job.FromExpression<ItemJob>(j => j.Run(handler, "run-1", key, item, number, When, CancellationToken.None)));
            jobs.Add(Job.FromExpression<ItemJob>(j => j.Run(handler, "run-1", key, item, number, When, CancellationToken.None), "critical"));
            jobs.Add(Job.FromExpression<ItemJob>(j => j.Item(handler, "run-1", key!, item, null, CancellationToken.None)));
            jobs.Add(Job.FromExpression<ItemJob>(j => j.Other("a", handler)));
            jobs.Add(Job.FromExpression<ItemJob>(j => j.Nothing()));
        }

        foreach (var job in jobs)
        {
            var ours = invocations.Of(job);
            var hangfires = InvocationData.SerializeJob(job);
            ours.Should().BeEquivalentTo(hangfires, o => o.ComparingByMembers<InvocationData>());
        }
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Invocations_StringArgumentsOfAnyText_AreExactlyHangfires(string text)
    {
        var invocations = new ChunkInvocations();

        foreach (var job in new[] { Job.FromExpression<ItemJob>(j => j.Other(text, text)), Job.FromExpression<ItemJob>(j => j.Other(text, "x")) })
        {
            invocations.Of(job).Should().BeEquivalentTo(InvocationData.SerializeJob(job), o => o.ComparingByMembers<InvocationData>());
        }
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Json_InvocationData_IsTheDocumentHangfireWrites(string text)
    {
        var json = new RowJson();

        foreach (var job in new[] { Job.FromExpression<ItemJob>(j => j.Other(text, "x")), Job.FromExpression<ItemJob>(j => j.Other("y", text), "critical") })
        {
            var invocation = InvocationData.SerializeJob(job);
            SameDocument(json.Invocation(invocation), SerializationHelper.Serialize(invocation));
        }
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void Json_StateData_IsTheDocumentHangfireWrites(string text)
    {
        var json = new RowJson();
        IState[] states =
        [
            new EnqueuedState("default") { Reason = text },
            new EnqueuedState("critical"),
            new FailedState(new InvalidOperationException(text)),
            new ScheduledState(TimeSpan.FromMinutes(5)),
        ];

        foreach (var state in states)
        {
            var data = state.SerializeData();
            SameDocument(json.StateData(data), SerializationHelper.Serialize(data));
        }

        var withNull = new Dictionary<string, string> { ["Present"] = text, ["Missing"] = null! };
        json.StateData(withNull).Should().Be(SerializationHelper.Serialize(withNull), "a null value is left to Hangfire's serializer");
    }

    private static void SameDocument(string ours, string hangfires) =>
        JsonNode.DeepEquals(JsonNode.Parse(ours), JsonNode.Parse(hangfires)).Should().BeTrue($"{ours} is the document {hangfires}");

    private sealed class ItemJob
    {
        public Task Run(string handler, string run, string? key, string item, int number, DateTime at, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task Item(string handler, string run, string key, string item, object? context, CancellationToken cancellationToken) => Task.CompletedTask;

        public void Other(string first, string second)
        {
        }

        public void Nothing()
        {
        }
    }
}
