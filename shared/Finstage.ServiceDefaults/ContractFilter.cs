using MassTransit;

namespace Finstage.ServiceDefaults;

/// <summary>
/// Fails a message that breaks its contract (<see cref="Finstage.Contracts.MessageRules"/>) before any
/// consumer sees it. It sits in the message type's own pipe, ahead of the consumers, their retries and
/// the batch collector, so the message goes to the error queue alone, at once, and a batch goes on
/// without it.
/// </summary>
internal sealed class ContractFilter<T>(Func<T, IReadOnlyList<string>> violations) : IFilter<ConsumeContext<T>>
    where T : class
{
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var broken = violations(context.Message);
        return broken.Count == 0 ? next.Send(context) : throw new InvalidMessageException(typeof(T).Name, broken);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("contract");
}

/// <summary>A message that breaks its contract; its text (MassTransit's MT-Fault-Message header) names every broken rule.</summary>
public sealed class InvalidMessageException : Exception
{
    public InvalidMessageException(string messageType, IReadOnlyList<string> violations)
        : base($"{messageType} breaks its contract: {string.Join("; ", violations)}")
    {
        Violations = violations;
    }

    public IReadOnlyList<string> Violations { get; }
}
