using System.ComponentModel.DataAnnotations;

namespace Finstage.ServiceDefaults;

/// <summary>Where the RabbitMQ broker is and how long a publish may wait for it.</summary>
public sealed class BusOptions : IValidatableObject
{
    public const string SectionName = "Bus";

    /// <summary>An <c>amqp://user:password@host:port/vhost</c> URI; defaults to <c>ConnectionStrings:RabbitMq</c>.</summary>
    [Required(ErrorMessage = "ConnectionStrings:RabbitMq (or Bus:ConnectionString) must name the RabbitMQ broker.")]
    public string? ConnectionString { get; set; }

    /// <summary>A publish gives up after this long, instead of waiting forever while the broker is down.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the service waits for the broker at start-up before it gives up.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A message body larger than this is not read: it goes to the queue's error queue with the reason.
    /// Below RabbitMQ's own max_message_size (16 MiB in scripts/servers.sh), which refuses the publish.
    /// </summary>
    [Range(1024, 512 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 8 * 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ConnectionString is not null
            && (!Uri.TryCreate(ConnectionString, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps")))
        {
            yield return new ValidationResult(
                "The RabbitMQ connection string must be an amqp:// or amqps:// URI.", [nameof(ConnectionString)]);
        }
    }
}
