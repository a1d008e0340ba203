namespace Finstage.Storage.Reading;

/// <summary>
/// The read API cannot answer now: its pool stayed busy past the checkout timeout, the statement ran past its
/// command timeout, or the database is away. The API answers 503 with Retry-After; ingest is not affected.
/// </summary>
public sealed class ReadsUnavailableException(Exception inner)
    : Exception("The news database cannot take this read now: " + inner.Message, inner);
