namespace FanOut.Hangfire;

internal static class Placeholder;
