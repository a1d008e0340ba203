using System.Globalization;
using System.Net.Mime;
using MassTransit;
using MassTransit.Configuration;

namespace Finstage.ServiceDefaults;

/// <summary>
/// MassTransit's System.Text.Json deserializer behind a cap on the body size, checked before a byte is
/// parsed. MassTransit has no such cap, and a receive filter is no place for one: it runs outside the
/// endpoint's error handling, so a throw there requeues the message for ever instead of parking it.
/// The deserializer runs inside it, so an oversized body goes to the error queue with the reason.
/// </summary>
internal sealed class BodySizeCapSerializerFactory(int maxBytes) : ISerializerFactory
{
    private readonly SystemTextJsonMessageSerializerFactory _json = new();

    public ContentType ContentType => _json.ContentType;

    public IMessageSerializer CreateSerializer() => _json.CreateSerializer();

    public IMessageDeserializer CreateDeserializer() => new Deserializer(_json.CreateDeserializer(), maxBytes);

    private sealed class Deserializer(IMessageDeserializer json, int maxBytes) : IMessageDeserializer
    {
        public ContentType ContentType => json.ContentType;

        public void Probe(ProbeContext context) => json.Probe(context);

        public ConsumeContext Deserialize(ReceiveContext receiveContext)
        {
            var length = receiveContext.Body.Length ?? receiveContext.Body.GetBytes().LongLength;
            return length <= maxBytes ? json.Deserialize(receiveContext) : throw new MessageTooLargeException(length, maxBytes);
        }

        public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null) =>
            json.Deserialize(body, headers, destinationAddress);

        public MessageBody GetMessageBody(string text) => json.GetMessageBody(text);
    }
}

/// <summary>A message body over <see cref="BusOptions.MaxMessageBytes"/>, refused unread.</summary>
public sealed class MessageTooLargeException : Exception
{
    public MessageTooLargeException(long length, int maxBytes)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"The message body is {length} bytes, over the cap of {maxBytes} bytes (Bus:MaxMessageBytes); it was not read."))
    {
    }
}
