using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// On SQLite the writes of one process wait in the service's own queue for the one write lock, instead of meeting
/// SQLITE_BUSY and the driver's blocking 150 ms retry loop (ResilientDb's write gate).
/// </summary>
public sealed class SqliteWriteQueueTests
{
    [Fact]
    public async Task ASecondWriteStartsOnlyAfterTheFirstHasCommitted()
    {
        await using var factory = CustomerApiFactory.ForSqlite();
        using var client = factory.CreateClient();
        var db = factory.Services.GetRequiredService<ResilientDb>();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = db.WriteAsync(
            async (connection, ct) =>
            {
                await using var transaction = await connection.BeginAsync(ct); // BEGIN IMMEDIATE: SQLite's write lock
                holding.SetResult();
                await release.Task.WaitAsync(ct);
                await transaction.CommitAsync(ct);
                return 1;
            },
            CancellationToken.None);
        await holding.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = db.WriteAsync(
            (connection, ct) =>
            {
                secondStarted.TrySetResult();
                return Task.FromResult(2);
            },
            CancellationToken.None);

        // Without the queue the second write begins at once (and its BEGIN IMMEDIATE then busy-waits on the lock).
        var early = await Task.WhenAny(secondStarted.Task, Task.Delay(TimeSpan.FromMilliseconds(500)));
        Assert.NotSame(secondStarted.Task, early);

        release.SetResult();
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, await second.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(secondStarted.Task.IsCompleted);
    }

    [Fact]
    public async Task AWriteStartedInsideAWriteDoesNotWaitForItself()
    {
        await using var factory = CustomerApiFactory.ForSqlite();
        using var client = factory.CreateClient();
        var db = factory.Services.GetRequiredService<ResilientDb>();

        var result = await db.WriteAsync(
            (_, ct) => db.WriteAsync((_, _) => Task.FromResult(7), ct),
            CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(7, result);
    }
}
