using CustomerRecords.Api.Idempotency;

namespace CustomerRecords.Api.Customers;

/// <summary>
/// What both API surfaces call: the store for the truth, the cache in front of single-customer
/// reads, and write-through after — never before — each successful commit. Lists come straight
/// from the database: keyset pages are index seeks, and caching them would need invalidating every
/// page a write might touch.
/// </summary>
internal sealed class CustomerService(CustomerStore store, ICustomerCache cache, CursorProtector cursors)
{
    // One delegate for the service's lifetime rather than a new one per read.
    private readonly Func<int, CancellationToken, Task<Customer?>> _load = store.GetAsync;

    /// <summary>Reads should carry <c>X-Cache: hit|miss</c>.</summary>
    public bool MarksCacheHeader => cache.MarksResponses;

    public ValueTask<(Customer? Customer, bool Hit)> GetAsync(int id, CancellationToken ct) =>
        cache.GetOrLoadAsync(id, _load, ct);

    /// <summary>A page whose <c>next</c> is sealed (see <see cref="CursorProtector"/>): it reveals nothing and cannot be forged.</summary>
    public async Task<CustomerPage> ListAsync(CustomerListQuery query, CancellationToken ct)
    {
        var page = await store.ListAsync(query, ct);
        return page.Next is null ? page : page with { Next = cursors.Seal(page.Next) };
    }

    /// <summary>The cursor inside a client's <c>after</c> token, if this deployment issued it.</summary>
    public bool TryOpenCursor(string token, out string cursor) => cursors.TryOpen(token, out cursor);

    public Task<int?> GetVersionAsync(int id, CancellationToken ct) => store.GetVersionAsync(id, ct);

    public async Task<WriteOutcome> CreateAsync(CustomerChange change, ChangeContext who, CancellationToken ct)
    {
        var outcome = await store.CreateAsync(change, who, ct);
        if (outcome.Status == WriteStatus.Done)
        {
            await cache.SetAsync(outcome.Customer!);
        }

        return outcome;
    }

    /// <summary>
    /// A create, under an <c>Idempotency-Key</c> when <paramref name="request"/> is set: then at most
    /// one row per key, and a repeat gets the first answer.
    /// </summary>
    public async Task<OnceResult<WriteOutcome>> CreateAsync(CustomerChange change, IdempotentRequest? request, ChangeContext who, CancellationToken ct)
    {
        if (request is not { } once)
        {
            return new OnceResult<WriteOutcome>(OnceState.Applied, await CreateAsync(change, who, ct));
        }

        var result = await store.CreateOnceAsync(once, change, who, ct);

        // Only the request that inserted writes through; a replay's snapshot may be older than the row.
        if (result is { State: OnceState.Applied, Value.Status: WriteStatus.Done })
        {
            await cache.SetAsync(result.Value.Customer!);
        }

        return result;
    }

    public async Task<WriteOutcome> UpdateAsync(int id, CustomerChange change, int? expectedVersion, ChangeContext who, CancellationToken ct)
    {
        var outcome = await store.UpdateAsync(id, change, expectedVersion, who, ct);
        if (outcome.Status == WriteStatus.Done)
        {
            await cache.SetAsync(outcome.Customer!);
        }

        return outcome;
    }

    /// <summary>A soft delete: the tombstone carries the deleted row's version, so a later restore outranks it.</summary>
    public async Task<WriteStatus> DeleteAsync(int id, int? expectedVersion, ChangeContext who, CancellationToken ct)
    {
        var outcome = await store.DeleteAsync(id, expectedVersion, who, ct);
        if (outcome.Status == WriteStatus.Done)
        {
            await cache.RemoveAsync(id, outcome.Customer!.Version);
        }

        return outcome.Status;
    }

    public async Task<WriteOutcome> RestoreAsync(int id, ChangeContext who, CancellationToken ct)
    {
        var outcome = await store.RestoreAsync(id, who, ct);
        if (outcome.Status == WriteStatus.Done)
        {
            await cache.SetAsync(outcome.Customer!);
        }

        return outcome;
    }

    /// <summary>Erases the customer from the database, then from every cache on every instance, for good.</summary>
    public async Task<WriteStatus> EraseAsync(int id, ChangeContext who, CancellationToken ct)
    {
        var status = await store.EraseAsync(id, who, ct);
        if (status == WriteStatus.Done)
        {
            await cache.RemoveAsync(id, CustomerEntry.Gone);
        }

        return status;
    }
}
