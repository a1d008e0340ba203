using Finstage.Storage.Consumers;

namespace Finstage.Storage.Tests;

[Trait("Lane", "Fast")]
public sealed class IngestLimitsTests
{
    private const int MiB = 1024 * 1024;

    [Theory]
    [Trait("Category", "Reliability")]
    // The default budget and body cap: 32 results of 8 MiB at most.
    [InlineData(256L * MiB, 8 * MiB, 32, 10, 2)]
    // A budget that holds what the batches want keeps them as configured (the old prefetch of 300).
    [InlineData(300L * 8 * MiB, 8 * MiB, 300, 100, 2)]
    [InlineData(10L * 1024 * MiB, 64 * 1024, 300, 100, 2)]
    // A smaller body cap lets more results in under the same budget.
    [InlineData(256L * MiB, 2 * MiB, 128, 42, 2)]
    // A budget under one body still takes one message at a time.
    [InlineData(1024L, 8 * MiB, 1, 1, 1)]
    [InlineData(2L * 8 * MiB, 8 * MiB, 2, 1, 2)]
    public void From_HoldsNoMoreLargestBodiesThanTheBudget_WhateverTheBatchSettings(
        long budget, int maxMessageBytes, int prefetch, int batchSize, int concurrentBatches)
    {
        var options = new IngestOptions { MaxBufferedBytes = budget };

        var limits = IngestLimits.From(options, maxMessageBytes);

        limits.ShouldBe(new IngestLimits(prefetch, batchSize, concurrentBatches));
        // MassTransit raises the prefetch to BatchSize × ConcurrentBatches when it is lower; it never has to.
        (limits.BatchSize * limits.ConcurrentBatches).ShouldBeLessThanOrEqualTo(limits.PrefetchCount);
        ((long)limits.PrefetchCount * maxMessageBytes).ShouldBeLessThanOrEqualTo(Math.Max(budget, maxMessageBytes));
    }
}
