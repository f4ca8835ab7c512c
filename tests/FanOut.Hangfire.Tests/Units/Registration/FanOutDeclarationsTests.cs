using FanOut.Hangfire.Registration;

namespace FanOut.Hangfire.Tests.Units.Registration;

/// <summary>Ids are unique whatever their case: on case-insensitive storages two ids differing in case would meet.</summary>
public sealed class FanOutDeclarationsTests
{
    [Fact]
    public void AddHandler_IdDeclaredBeforeInAnotherCase_ThrowsForIdNamingIt()
    {
        var declarations = new FanOutDeclarations();
        declarations.Add(new HandlerDeclaration("send-slack", "tenant/due", typeof(object), typeof(string)));

        declarations.Invoking(d => d.Add(new HandlerDeclaration("Send-Slack", "other/event", typeof(object), typeof(string))))
            .Should().Throw<ArgumentException>()
            .WithParameterName("id")
            .WithMessage("A handler with the id 'Send-Slack' is already declared*");
        declarations.Handlers.Should().ContainSingle();
    }

    [Fact]
    public void AddCron_IdDeclaredBeforeInAnotherCase_ThrowsForIdNamingIt()
    {
        var declarations = new FanOutDeclarations();
        declarations.Add(new CronDeclaration("nightly", "tenant/due", typeof(object), typeof(string)));

        declarations.Invoking(d => d.Add(new CronDeclaration("NIGHTLY", "tenant/due", typeof(object), typeof(string))))
            .Should().Throw<ArgumentException>()
            .WithParameterName("id")
            .WithMessage("A cron fan-out with the id 'NIGHTLY' is already declared*");
        declarations.Crons.Should().ContainSingle();
    }

    [Fact]
    public void AddCompletion_ForTheSameFanOutTwice_ThrowsForOf()
    {
        var declarations = new FanOutDeclarations();
        declarations.Add(new CompletionDeclaration("nightly", typeof(object)));

        declarations.Invoking(d => d.Add(new CompletionDeclaration("nightly", typeof(string))))
            .Should().Throw<ArgumentException>()
            .WithParameterName("of")
            .WithMessage("A completion handler for 'nightly' is already declared*");
    }

    [Fact]
    public void Add_DistinctIds_KeepsThemInDeclarationOrder()
    {
        var declarations = new FanOutDeclarations();

        declarations.Add(new HandlerDeclaration("b", "e", typeof(object), typeof(string)));
        declarations.Add(new HandlerDeclaration("a", "e", typeof(object), typeof(string)));
        declarations.Add(new HandlerDeclaration("a.1", "e", typeof(object), typeof(string)));
        declarations.Add(new CronDeclaration("b", "e", typeof(object), typeof(string)));

        declarations.Handlers.Select(h => h.Id).Should().Equal("b", "a", "a.1");
        declarations.Crons.Should().ContainSingle("a cron fan-out and a handler may share an id").Which.Id.Should().Be("b");
    }
}
