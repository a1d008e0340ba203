using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MassTransit;
using MassTransit.Serialization;
using RabbitMQ.Client;

namespace Finstage.Testing;

/// <summary>A message to put straight into a queue: any bytes, under an AMQP message id to find it by.</summary>
public sealed record RawMessage(byte[] Body, string MessageId, string? ContentType = BrokerQueues.MassTransitContentType);

/// <summary>A message as it lies in a queue: its body (cut after 4 KiB), its AMQP message id and its headers as text.</summary>
public sealed record QueuedMessage(string Body, string? MessageId, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.GetValueOrDefault(name);
}

/// <summary>
/// The queues of a virtual host on the real RabbitMQ, below MassTransit: puts any bytes into a queue,
/// as a broken or hostile publisher would, and reads what lies in a queue (an _error queue's
/// messages with MassTransit's MT-Fault-* headers) without taking it away.
/// </summary>
public static class BrokerQueues
{
    public const string MassTransitContentType = "application/vnd.masstransit+json";

    /// <summary>Sends the messages, in order, through the default exchange to <paramref name="queue"/>; each one confirmed by the broker.</summary>
    public static async Task SendRawAsync(Uri virtualHost, string queue, IReadOnlyList<RawMessage> messages, CancellationToken cancellationToken = default)
    {
        var factory = new ConnectionFactory { Uri = virtualHost };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        foreach (var message in messages)
        {
            var properties = new BasicProperties { MessageId = message.MessageId, ContentType = message.ContentType, Persistent = true };
            // Mandatory: a message for a queue that does not exist fails here instead of vanishing.
            await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, message.Body, cancellationToken);
        }
    }

    /// <summary>A MassTransit envelope, as the services send it, around any JSON claiming to be <paramref name="messageTypeUrn"/>.</summary>
    public static byte[] Envelope(string messageTypeUrn, string messageJson, string messageId) =>
        Encoding.UTF8.GetBytes($$"""{"messageId":"{{messageId}}","messageType":["{{messageTypeUrn}}"],"message":{{messageJson}}}""");

    /// <summary>A MassTransit envelope around <paramref name="message"/>, its JSON first changed by <paramref name="edit"/>.</summary>
    public static byte[] Envelope<T>(T message, string messageId, Action<JsonObject>? edit = null)
        where T : class
    {
        var json = JsonSerializer.SerializeToNode(message, SystemTextJsonMessageSerializer.Options)!.AsObject();
        edit?.Invoke(json);
        return Envelope(MessageUrn.ForTypeString<T>(), json.ToJsonString(), messageId);
    }

    /// <summary>The messages in <paramref name="queue"/> (none when it does not exist yet), left where they are.</summary>
    public static async Task<IReadOnlyList<QueuedMessage>> PeekAsync(Uri virtualHost, string queue, CancellationToken cancellationToken = default)
    {
        using var http = TestServers.CreateManagementClient();
        var path = $"api/queues/{Uri.EscapeDataString(VirtualHostName(virtualHost))}/{Uri.EscapeDataString(queue)}/get";
        using var response = await http.PostAsync(
            new Uri(path, UriKind.Relative),
            TestServers.Json("""{"count":1000,"ackmode":"ack_requeue_true","encoding":"auto","truncate":4096}"""),
            cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return [.. document.RootElement.EnumerateArray().Select(Read)];
    }

    /// <summary>Waits until a message with <paramref name="messageId"/> lies in <paramref name="queue"/>, and returns it.</summary>
    public static async Task<QueuedMessage> WaitForAsync(
        Uri virtualHost, string queue, string messageId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var found = await Eventually.WaitForAsync(
            async () => (await PeekAsync(virtualHost, queue, cancellationToken)).FirstOrDefault(message => message.MessageId == messageId),
            message => message is not null,
            timeout,
            $"message {messageId} in {queue}",
            cancellationToken);
        return found!;
    }

    /// <summary>The virtual host an AMQP URI names ("/" for none).</summary>
    public static string VirtualHostName(Uri virtualHost) =>
        Uri.UnescapeDataString(virtualHost.AbsolutePath.TrimStart('/')) is { Length: > 0 } name ? name : "/";

    private static QueuedMessage Read(JsonElement message)
    {
        var properties = message.GetProperty("properties");
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        if (properties.TryGetProperty("headers", out var table) && table.ValueKind == JsonValueKind.Object)
        {
            foreach (var header in table.EnumerateObject())
            {
                headers[header.Name] = header.Value.ValueKind == JsonValueKind.String ? header.Value.GetString()! : header.Value.GetRawText();
            }
        }
        var messageId = properties.TryGetProperty("message_id", out var id) ? id.GetString() : null;
        return new QueuedMessage(message.GetProperty("payload").GetString() ?? "", messageId, headers);
    }
}
