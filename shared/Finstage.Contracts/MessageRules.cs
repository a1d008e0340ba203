namespace Finstage.Contracts;

/// <summary>
/// What a consumer may rely on in each message. The serializer fills a member that is missing from
/// the JSON with null or its default instead of refusing the message, so these rules are checked
/// when a message arrives; a message that breaks one is poison and is parked, not consumed.
/// </summary>
/// <remarks>
/// The rules hold for everything the services themselves publish: the crawler sends only articles
/// with an absolute http(s) URL and a title (made from the summary or URL, and flagged
/// <see cref="NewsArticle.TitleDerived"/>, when the feed gave none), every id is a fresh Guid, every time is set.
/// </remarks>
public static class MessageRules
{
    /// <summary>Every rule <paramref name="message"/> breaks, in words; empty when it may be consumed.</summary>
    public static IReadOnlyList<string> Violations(CrawlRequested message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var violations = new List<string>();
        RequireId(violations, message.CrawlId, nameof(message.CrawlId));
        RequireId(violations, message.CycleId, nameof(message.CycleId));
        RequireText(violations, message.Source, nameof(message.Source));
        RequireText(violations, message.Symbol, nameof(message.Symbol));
        RequireTime(violations, message.RequestedAt, nameof(message.RequestedAt));
        return violations;
    }

    /// <inheritdoc cref="Violations(CrawlRequested)"/>
    public static IReadOnlyList<string> Violations(NewsCrawled message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var violations = new List<string>();
        RequireId(violations, message.CrawlId, nameof(message.CrawlId));
        RequireId(violations, message.CycleId, nameof(message.CycleId));
        RequireText(violations, message.Source, nameof(message.Source));
        RequireText(violations, message.Symbol, nameof(message.Symbol));
        RequireTime(violations, message.FetchedAt, nameof(message.FetchedAt));
        if (message.HttpStatus is < 100 or > 599)
        {
            violations.Add($"HttpStatus {message.HttpStatus} is not an HTTP status");
        }
        if (message.Duration < TimeSpan.Zero)
        {
            violations.Add("Duration is negative");
        }
        if (message.Articles is null)
        {
            violations.Add("Articles is missing");
            return violations;
        }
        for (var i = 0; i < message.Articles.Count; i++)
        {
            var article = message.Articles[i];
            if (article is null)
            {
                violations.Add($"Articles[{i}] is null");
            }
            else if (LinkOrTitleViolation(i, article.Url, article.Title) is { } violation)
            {
                violations.Add(violation);
            }
        }
        return violations;
    }

    /// <inheritdoc cref="Violations(CrawlRequested)"/>
    public static IReadOnlyList<string> Violations(CrawlFailed message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var violations = new List<string>();
        RequireId(violations, message.CrawlId, nameof(message.CrawlId));
        RequireId(violations, message.CycleId, nameof(message.CycleId));
        RequireText(violations, message.Source, nameof(message.Source));
        RequireText(violations, message.Symbol, nameof(message.Symbol));
        // A name that is not a member already fails to deserialise; a number must be checked here.
        if (!Enum.IsDefined(message.Reason))
        {
            violations.Add($"Reason {(int)message.Reason} is not a CrawlFailureReason");
        }
        if (message.Detail is null)
        {
            violations.Add("Detail is missing");
        }
        if (message.Attempts < 0)
        {
            violations.Add("Attempts is negative");
        }
        RequireTime(violations, message.FailedAt, nameof(message.FailedAt));
        return violations;
    }

    /// <inheritdoc cref="Violations(CrawlRequested)"/>
    public static IReadOnlyList<string> Violations(ArticlesStored message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var violations = new List<string>();
        RequireId(violations, message.EventId, nameof(message.EventId));
        RequireId(violations, message.CrawlId, nameof(message.CrawlId));
        RequireText(violations, message.Source, nameof(message.Source));
        RequireText(violations, message.Symbol, nameof(message.Symbol));
        RequireTime(violations, message.StoredAt, nameof(message.StoredAt));
        // The stream writes a position as non-negative numbers and reads it back so (storage's outbox numbers from 1).
        if (message.Sequence < 0)
        {
            violations.Add($"Sequence {message.Sequence} is negative");
        }
        if (message.Articles is null)
        {
            violations.Add("Articles is missing");
            return violations;
        }
        for (var i = 0; i < message.Articles.Count; i++)
        {
            var article = message.Articles[i];
            if (article is null)
            {
                violations.Add($"Articles[{i}] is null");
            }
            else if (string.IsNullOrWhiteSpace(article.Id))
            {
                violations.Add($"Articles[{i}].Id is missing or blank");
            }
            else if (LinkOrTitleViolation(i, article.Url, article.Title) is { } violation)
            {
                violations.Add(violation);
            }
        }
        return violations;
    }

    // What every article of a message must have, whichever the message: a link a reader can follow, and a title.
    private static string? LinkOrTitleViolation(int index, string? url, string? title) =>
        !Uri.TryCreate(url, UriKind.Absolute, out var link) || link.Scheme is not ("http" or "https")
            ? $"Articles[{index}].Url is not an absolute http(s) URL"
            : title is null ? $"Articles[{index}].Title is missing" : null;

    private static void RequireId(List<string> violations, Guid id, string name)
    {
        if (id == Guid.Empty)
        {
            violations.Add($"{name} is missing or empty");
        }
    }

    private static void RequireText(List<string> violations, string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            violations.Add($"{name} is missing or blank");
        }
    }

    private static void RequireTime(List<string> violations, DateTimeOffset time, string name)
    {
        if (time == default)
        {
            violations.Add($"{name} is missing");
        }
    }
}
