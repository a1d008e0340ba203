using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Finstage.ServiceDefaults;

/// <summary>Wires what every Finstage service shares: JSON logs, OpenTelemetry, the host names it answers, health checks.</summary>
public static class Extensions
{
    /// <summary>Tag of the checks that say the process itself is alive (no dependencies).</summary>
    public const string LiveTag = "live";

    /// <summary>Tag of the checks that say the service can do its work (broker, database).</summary>
    public const string ReadyTag = "ready";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureJsonLogging();
        builder.ConfigureOpenTelemetry();
        builder.RestrictHostNames();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    internal static void ConfigureJsonLogging(this IHostApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        // Puts TraceId and SpanId into every log entry's scope, so logs join their trace.
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        var serviceName = builder.Environment.ApplicationName;
        // Export only where a collector is named: no endpoint, no background exporter retrying forever.
        var exporting = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing
                    .AddSource(Telemetry.SourceName)
                    .AddSource("MassTransit")
                    .AddAspNetCoreInstrumentation(options =>
                        // Health probes would otherwise drown the real traces.
                        options.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                    .AddHttpClientInstrumentation();
                if (!exporting)
                {
                    // Nobody reads a span without an exporter: record none, rather than fill in the tags of
                    // every request, command and message for nothing (a tenth of a read API request's CPU).
                    tracing.SetSampler(new AlwaysOffSampler());
                }
            })
            .WithMetrics(metrics => metrics
                .AddMeter(Telemetry.MeterName)
                .AddMeter("MassTransit")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());

        if (exporting)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        else
        {
            builder.Services.AddHostedService<UnrecordedTraceContext>();
        }
    }

    /// <summary>
    /// Answers errors as ProblemDetails: a request the framework could not read (malformed JSON,
    /// say) is the caller's 400, not a 500; anything else is a 500 without internals.
    /// </summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>Maps <c>/health/live</c> (the process answers) and <c>/health/ready</c> (every check passes).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteJsonAsync });
        return app;
    }
}
