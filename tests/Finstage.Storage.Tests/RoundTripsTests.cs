using Finstage.Storage.Writing;
using MySqlConnector;

namespace Finstage.Storage.Tests;

[Trait("Lane", "Fast")]
public sealed class RoundTripsTests
{
    [Fact(Timeout = 10_000)]
    public void Of_SendsEveryStatementInOneRoundTrip_WhenTheyFitTogether()
    {
        var statements = Enumerable.Range(0, 6).Select(n => Statement(1_000, "s" + n)).ToList();

        var trips = RoundTrips.Of(statements).ToList();

        trips.Count.ShouldBe(1);
        trips[0].ShouldBe(statements);
    }

    [Fact(Timeout = 10_000)]
    public void Of_StartsANewRoundTripInOrder_WhenTheNextStatementWouldPassTheBound()
    {
        // Two statements of nearly the whole bound each, between two small ones.
        var large = UpsertStatements.MaxStatementCharacters - 10_000;
        var statements = new[] { Statement(100, "before"), Statement(large, "first"), Statement(large, "second"), Statement(100, "after") };

        var trips = RoundTrips.Of(statements).ToList();

        trips.Select(trip => trip.Select(Name).ToList()).ShouldBe([["before", "first"], ["second", "after"]]);
        trips.ShouldAllBe(trip => trip.Sum(RoundTrips.Characters) <= UpsertStatements.MaxStatementCharacters);
    }

    [Fact(Timeout = 10_000)]
    public void Of_SendsAStatementAlone_WhenItIsLargerThanTheBoundByItself()
    {
        // One articles statement may come near the bound with its SQL text on top (UpsertStatements.ArticleChunks).
        var statements = new[] { Statement(100, "before"), Statement(UpsertStatements.MaxStatementCharacters + 1, "huge"), Statement(100, "after") };

        var trips = RoundTrips.Of(statements).ToList();

        trips.Select(trip => trip.Select(Name).ToList()).ShouldBe([["before"], ["huge"], ["after"]]);
    }

    [Fact(Timeout = 10_000)]
    public void Characters_CountsTheTextAndEachValueAsItIsWritten_WhenValuesAreTextAndBytes()
    {
        var command = new MySqlBatchCommand("SELECT @a, @b, @c");
        command.Parameters.AddWithValue("@a", new string('x', 1_000));
        command.Parameters.AddWithValue("@b", new byte[16]);
        command.Parameters.AddWithValue("@c", 42);

        RoundTrips.Characters(command).ShouldBeGreaterThanOrEqualTo(17 + 1_000 + 32 + 2);
        RoundTrips.Characters(command).ShouldBeLessThan(17 + 1_000 + 32 + 100);
    }

    // A statement of about `characters` characters, all of them in one text value.
    private static MySqlBatchCommand Statement(int characters, string name)
    {
        var command = new MySqlBatchCommand("SELECT @v /* " + name + " */");
        command.Parameters.AddWithValue("@v", new string('v', characters));
        return command;
    }

    private static string Name(MySqlBatchCommand command) => command.CommandText!.Split("/* ")[1].TrimEnd(' ', '*', '/');
}
