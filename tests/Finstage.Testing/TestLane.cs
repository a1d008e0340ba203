namespace Finstage.Testing;

/// <summary>
/// Which lane <c>./test.sh</c> runs: <c>--fast</c> sets <c>FINSTAGE_TEST_LANE=fast</c> and runs only the
/// classes marked <c>[Trait("Lane", "Fast")]</c>, with no MariaDB or RabbitMQ started.
/// </summary>
/// <remarks>
/// xunit creates an assembly fixture whenever any test of its assembly runs, even a filtered one that
/// never asks for it; the fixtures that connect to the servers check this first and stay unstarted.
/// </remarks>
public static class TestLane
{
    public const string Variable = "FINSTAGE_TEST_LANE";

    public static bool IsFast => string.Equals(Environment.GetEnvironmentVariable(Variable), "fast", StringComparison.Ordinal);

    /// <summary>What a test that needs the servers gets in the fast lane: a clear failure instead of a connection refused.</summary>
    public static InvalidOperationException NotStarted(string fixture) => new(
        IsFast
            ? $"{fixture} is not started in the fast lane ({Variable}=fast): a test that uses it needs the servers and must not be marked [Trait(\"Lane\", \"Fast\")]."
            : $"{fixture} is not started.");
}
