using FanOut.Hangfire.WorkerSample;
using Hangfire;

// A Worker Service: a Hangfire server and a fan-out, with no web server. On start it runs the fan-out once.
var builder = Host.CreateApplicationBuilder(args);

builder.Services.AddHangfire(c => c
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings()
    .UseInMemoryStorage());
builder.Services.AddHangfireServer();

// Every morning, load the customers with an overdue invoice, then remind each of them in a job of its own.
builder.Services.AddFanOut()
    .AddCron<OverdueInvoices>(OverdueInvoices.FanOutId, "0 8 * * *", sends: "app/invoice.overdue")
    .AddHandler<SendInvoiceReminder>("send-invoice-reminder", on: "app/invoice.overdue")
    .AddCompletionHandler<LogCompletedRun>(of: OverdueInvoices.FanOutId);

builder.Services.AddHostedService<TriggerOnStart>();

builder.Build().Run();
