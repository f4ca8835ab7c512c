using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace FanOut.Hangfire.Dashboard;

/// <summary>
/// The Pause and Resume buttons' POSTs, for a cron fan-out (<c>/fanout/crons/{id}/pause</c>, <c>.../resume</c>) or a
/// handler (<c>/fanout/handlers/{id}/pause</c>, <c>.../resume</c>), with the rules of every Fan-out command
/// (<see cref="DashboardCommand"/>). An id that is not declared is not found; a resume of what configuration pauses
/// conflicts, and changes nothing.
/// </summary>
internal sealed class PauseCommand : IDashboardDispatcher
{
    public const string TargetGroup = "target";
    public const string IdGroup = "id";
    public const string ActionGroup = "action";

    public const string Crons = "crons";
    public const string Handlers = "handlers";

    public const string Pattern = FanOutPage.Path + "/(?<" + TargetGroup + ">crons|handlers)/(?<" + IdGroup + ">[^/]+)/(?<" + ActionGroup + ">pause|resume)";

    public static string PathOf(FanOutPauseTarget target, string id, bool pause) =>
        $"{FanOutPage.Path}/{(target == FanOutPauseTarget.CronFanOut ? Crons : Handlers)}/{Uri.EscapeDataString(id)}/{(pause ? "pause" : "resume")}";

    public async Task Dispatch(DashboardContext context)
    {
        context.Response.StatusCode = await ChangeAsync(context).ConfigureAwait(false);
    }

    private static async Task<int> ChangeAsync(DashboardContext context)
    {
        if (DashboardCommand.Refusal(context) is { } refused)
        {
            return refused;
        }

        if (DashboardServices.Of(context).Control is not { } control)
        {
            return StatusCodes.Status503ServiceUnavailable;
        }

        var match = context.UriMatch.Groups;
        var id = Uri.UnescapeDataString(match[IdGroup].Value);
        var pause = match[ActionGroup].Value == "pause";
        var cron = match[TargetGroup].Value == Crons;
        try
        {
            // A click is not half undone by closing the tab: the change is made whole.
            Task change = (cron, pause) switch
            {
                (true, true) => control.PauseFanOutAsync(id, CancellationToken.None),
                (true, false) => control.ResumeFanOutAsync(id, CancellationToken.None),
                (false, true) => control.PauseHandlerAsync(id, CancellationToken.None),
                (false, false) => control.ResumeHandlerAsync(id, CancellationToken.None),
            };
            await change.ConfigureAwait(false);
            return StatusCodes.Status204NoContent;
        }
        catch (ArgumentException)
        {
            return StatusCodes.Status404NotFound;
        }
        catch (InvalidOperationException)
        {
            return StatusCodes.Status409Conflict;
        }
    }
}
