using Finstage.Testing;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Finstage.Storage.Tests;

/// <summary>DNS rebinding on the storage's read API (<see cref="HostNamesContract{TEntryPoint}"/>).</summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
public sealed class HostNamesTests(StorageFixture storage) : HostNamesContract<Program>
{
    protected override WebApplicationFactory<Program> Factory => storage.Factory;

    protected override string ServiceName => "storage";

    protected override int Port => 5082;

    protected override IReadOnlyList<string> Paths => ["/api/news"];
}
