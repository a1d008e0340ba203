using Finstage.Storage.Infrastructure;
using Finstage.Storage.Writing;
using Finstage.Testing;
using MySqlConnector;

namespace Finstage.Storage.Tests;

public sealed class TypedParametersTests
{
    public static TheoryData<object> Values => new()
    {
        "a title",
        new byte[] { 1, 2, 3 },
        new DateTime(2026, 12, 2, 18, 0, 0, DateTimeKind.Utc),
        42,
        42L,
        Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"),
        DBNull.Value,
    };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Values))]
    public void AddTyped_GivesTheTypeAndValueTheDriverWouldInfer_ForEachKindOfValue(object value)
    {
        var inferred = new MySqlCommand().Parameters.AddWithValue("@p", value);
        var typed = new MySqlCommand().Parameters;

        // Twice: the second one comes from the cache.
        typed.AddTyped("@p", value);
        typed.AddTyped("@q", value);

        foreach (var parameter in typed.Cast<MySqlParameter>())
        {
            parameter.MySqlDbType.ShouldBe(inferred.MySqlDbType);
            parameter.Value.ShouldBe(inferred.Value);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task AddTyped_StoresAndReadsBackEveryKindOfValue_OnTheRealServer()
    {
        await using var connection = new MySqlConnection(TestServers.MySqlRuntime);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new MySqlCommand("SELECT @text, HEX(@bytes), @at, @number, @nothing", connection);
        command.Parameters.AddTyped("@text", "it's \"quoted\" \\ text");
        command.Parameters.AddTyped("@bytes", new byte[] { 0, 39, 92, 255 });
        command.Parameters.AddTyped("@at", new DateTime(2026, 12, 2, 18, 0, 0, 123, DateTimeKind.Utc));
        command.Parameters.AddTyped("@number", 1_234_567_890_123L);
        command.Parameters.AddTyped("@nothing", null);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);

        reader.Read().ShouldBeTrue();
        reader.GetString(0).ShouldBe("it's \"quoted\" \\ text");
        reader.GetString(1).ShouldBe("00275CFF");
        reader.GetDateTime(2).ShouldBe(new DateTime(2026, 12, 2, 18, 0, 0, 123));
        reader.GetInt64(3).ShouldBe(1_234_567_890_123L);
        reader.IsDBNull(4).ShouldBeTrue();
    }
}
