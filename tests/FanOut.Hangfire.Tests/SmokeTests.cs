namespace FanOut.Hangfire.Tests;

public class SmokeTests
{
    [Fact]
    public void Builds() => 1.Should().Be(1);
}
