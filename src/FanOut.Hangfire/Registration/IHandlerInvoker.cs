namespace FanOut.Hangfire.Registration;

/// <summary>Calls a handler with its item read back from JSON, without reflection per call.</summary>
internal interface IHandlerInvoker
{
    Task InvokeAsync(IServiceProvider services, string itemJson, FanOutContext context, CancellationToken cancellationToken);
}
