using System.Diagnostics;
using Finstage.ServiceDefaults;
using Hangfire.Client;
using Hangfire.Server;

namespace Finstage.Scheduler.Infrastructure;

/// <summary>
/// Runs every job inside an <see cref="Activity"/>, parented to the trace that enqueued it (an
/// API request, say), so the messages a job publishes carry one trace from trigger to storage.
/// </summary>
internal sealed class JobTracingFilter : IClientFilter, IServerFilter
{
    private const string ParentParameter = "traceparent";
    private const string ActivityItem = "finstage.activity";

    public void OnCreating(CreatingContext context)
    {
        if (Activity.Current?.Id is { } parent)
        {
            context.SetJobParameter(ParentParameter, parent);
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        var parent = context.GetJobParameter<string>(ParentParameter);
        var activity = Telemetry.Source.StartActivity(
            $"job {context.BackgroundJob.Job.Type.Name}.{context.BackgroundJob.Job.Method.Name}",
            ActivityKind.Internal,
            parent is not null && ActivityContext.TryParse(parent, null, out var parentContext) ? parentContext : default);
        activity?.SetTag("hangfire.job.id", context.BackgroundJob.Id);
        context.Items[ActivityItem] = activity;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(ActivityItem, out var item) && item is Activity activity)
        {
            if (context.Exception is { } failure && !context.ExceptionHandled)
            {
                activity.SetStatus(ActivityStatusCode.Error, failure.Message);
            }
            activity.Dispose();
        }
    }
}
