using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Api.Customers;
using CustomerRecords.Api.Data;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// The list endpoint over the customer lifecycle: live rows only, <c>state=deleted</c>, <c>updated_since</c> and
/// <c>count</c>. Each engine runs every test through a subclass, on a fresh database holding the three sample
/// customers; every response is checked against the served OpenAPI document.
/// </summary>
public abstract class CustomerListsApiContract : ApiContractSuite
{
    private const int SampleCustomers = 3;

    /// <summary>What <c>count=estimated</c> answers for the whole live listing, read the way the engine keeps it; null where it counts exactly.</summary>
    private protected abstract Task<long?> TableStatisticsRowsAsync(AppDatabase database);

    private AppDatabase Database => Factory.Services.GetRequiredService<AppDatabase>();

    private async Task<JsonObject> CreateAsync(string name, string? email = null)
    {
        var response = await Client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name, email = email ?? Json.UniqueEmail() }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync();
    }

    private async Task<List<int>> CreateTaggedAsync(string tag, int count)
    {
        var ids = new List<int>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((int)(await CreateAsync($"{tag} {i}"))["id"]!);
        }

        return ids;
    }

    private async Task DeleteAsync(int id) =>
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync(new Uri($"/customers/{id}", UriKind.Relative))).StatusCode);

    private Task<JsonObject> PageAsync(string query) => GetObjectAsync("/customers?" + query);

    /// <summary>Every page of <paramref name="query"/>, <paramref name="limit"/> at a time: the items in order, and the pages' totals.</summary>
    private async Task<(List<JsonObject> Items, List<long?> Totals)> WalkAsync(string query, int limit)
    {
        var items = new List<JsonObject>();
        var totals = new List<long?>();
        string? cursor = null;
        for (var pages = 0; pages < 50; pages++)
        {
            var page = await PageAsync($"{query}&limit={limit}" + (cursor is null ? string.Empty : $"&after={cursor}"));
            items.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()));
            totals.Add((long?)page["total"]);
            cursor = (string?)page["next"];
            if (cursor is null)
            {
                return (items, totals);
            }
        }

        throw new InvalidOperationException("More than 50 pages.");
    }

    private static List<int> Ids(IEnumerable<JsonObject> items) => items.Select(i => (int)i["id"]!).ToList();

    private async Task ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await Database.Writer.OpenConnectionAsync();
        await using var command = connection.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.With(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }

    private static string Tag() => "lc" + Guid.NewGuid().ToString("N")[..10];

    [Theory]
    [InlineData("id")]
    [InlineData("-id")]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("created_at")]
    [InlineData("-created_at")]
    [InlineData("updated_at")]
    [InlineData("-updated_at")]
    public async Task DeletedCustomersLeaveEveryLiveListing(string sort)
    {
        var tag = Tag();
        var ids = await CreateTaggedAsync(tag, 6);
        await DeleteAsync(ids[1]);
        await DeleteAsync(ids[4]);
        int[] live = [ids[0], ids[2], ids[3], ids[5]];

        var (filtered, _) = await WalkAsync($"q={tag}&sort={sort}", 1);
        var (unfiltered, _) = await WalkAsync($"sort={sort}", 2);

        Assert.Equal(live.Order(), Ids(filtered).Order());
        Assert.Equal(live.Order(), Ids(unfiltered).Where(ids.Contains).Order());
        Assert.Equal(SampleCustomers + live.Length, unfiltered.Count);
        Assert.All(unfiltered, item => Assert.False(item.ContainsKey("deleted_at")));
    }

    [Fact]
    public async Task UpdatedAtSortsWalkTheLiveCustomersInTheOrderOfTheirLastChange()
    {
        var tag = Tag();
        var ids = await CreateTaggedAsync(tag, 4);
        Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync(new Uri($"/customers/{ids[0]}", UriKind.Relative), Json.Body(new { name = $"{tag} changed" }))).StatusCode);
        int[] expected = [ids[1], ids[2], ids[3], ids[0]];

        var (ascending, _) = await WalkAsync($"q={tag}&sort=updated_at", 1);
        var (descending, _) = await WalkAsync($"q={tag}&sort=-updated_at", 3);

        Assert.Equal(expected, Ids(ascending));
        Assert.Equal(expected.Reverse(), Ids(descending));
    }

    [Fact]
    public async Task TheEmailOfADeletedCustomerFindsOnlyTheLiveOneThatTookItOver()
    {
        var email = Json.UniqueEmail("Taken.Over");
        var first = (int)(await CreateAsync("First", email))["id"]!;
        await DeleteAsync(first);
        Assert.Empty((await PageAsync($"email={Uri.EscapeDataString(email)}"))["items"]!.AsArray());

        var second = (int)(await CreateAsync("Second", email.ToUpperInvariant()))["id"]!;

        Assert.Equal([second], Ids((await PageAsync($"email={Uri.EscapeDataString(email)}"))["items"]!.AsArray().Select(i => i!.AsObject())));
        Assert.Equal([first], Ids((await PageAsync($"state=deleted&email={Uri.EscapeDataString(email)}"))["items"]!.AsArray().Select(i => i!.AsObject())));
    }

    [Fact]
    public async Task TheDeletedListingHoldsTheDeletedCustomersNewestDeletionFirstWithTheirDeletionTime()
    {
        var tag = Tag();
        var ids = await CreateTaggedAsync(tag, 5);
        foreach (var id in new[] { ids[3], ids[0], ids[4] })
        {
            await DeleteAsync(id);
        }

        var (newestFirst, _) = await WalkAsync("state=deleted", 1);
        var (oldestFirst, _) = await WalkAsync($"state=deleted&sort=deleted_at&q={tag}", 2);
        var (explicitDefault, _) = await WalkAsync("state=deleted&sort=-deleted_at", 2);

        Assert.Equal([ids[4], ids[0], ids[3]], Ids(newestFirst));
        Assert.Equal([ids[3], ids[0], ids[4]], Ids(oldestFirst));
        Assert.Equal(Ids(newestFirst), Ids(explicitDefault));
        var times = newestFirst.Select(i => DateTime.Parse((string)i["deleted_at"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)).ToList();
        Assert.Equal(times.OrderDescending(), times);
        Assert.All(newestFirst, item => Assert.EndsWith("Z", (string)item["deleted_at"]!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARestoredCustomerLeavesTheDeletedListingAndComesBack()
    {
        var id = (int)(await CreateAsync("Restored"))["id"]!;
        await DeleteAsync(id);
        Assert.Equal([id], Ids((await PageAsync("state=deleted"))["items"]!.AsArray().Select(i => i!.AsObject())));

        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync(new Uri($"/customers/{id}/restore", UriKind.Relative), null)).StatusCode);

        Assert.Empty((await PageAsync("state=deleted"))["items"]!.AsArray());
        Assert.Contains(id, Ids((await PageAsync("limit=500"))["items"]!.AsArray().Select(i => i!.AsObject())));
    }

    [Theory]
    [InlineData("state=deleted&sort=id", "sort")]
    [InlineData("state=deleted&sort=-name", "sort")]
    [InlineData("state=deleted&sort=updated_at", "sort")]
    [InlineData("sort=deleted_at", "sort")]
    [InlineData("sort=-deleted_at", "sort")]
    [InlineData("state=gone", "state")]
    [InlineData("state=", "state")]
    [InlineData("updated_since=yesterday", "updated_since")]
    [InlineData("updated_since=2026-01-02T03:04:05", "updated_since")]
    [InlineData("updated_since=2026-01-02T03:04:05+02:00", "updated_since")] // an unencoded '+' is a space
    [InlineData("updated_since=2026-02-30T00:00:00Z", "updated_since")]
    [InlineData("updated_since=2026-01-02T03:04:05Z&sort=name", "sort")]
    [InlineData("updated_since=2026-01-02T03:04:05Z&sort=-updated_at", "sort")]
    [InlineData("updated_since=2026-01-02T03:04:05Z&state=deleted", "updated_since")]
    [InlineData("count=all", "count")]
    [InlineData("count=", "count")]
    public async Task ParametersThatDoNotCombineAreRefusedNamingTheParameter(string query, string parameter) =>
        await AssertValidationAsync(await Client.GetAsync(new Uri("/customers?" + query, UriKind.Relative)), parameter);

    [Fact]
    public async Task UpdatedSinceWalksTheLiveCustomersChangedSinceThenOldestChangeFirst()
    {
        var tag = Tag();
        var ids = await CreateTaggedAsync(tag, 6);
        // Known times, two of them equal (the tie goes by id), one before the threshold; one deleted after.
        var t = new DateTime(2999, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var times = new[] { t.AddSeconds(5), t.AddSeconds(-1), t, t.AddSeconds(2).AddTicks(10), t.AddSeconds(2).AddTicks(10), t.AddSeconds(9) };
        for (var i = 0; i < ids.Count; i++)
        {
            await ExecuteAsync("UPDATE customers SET updated_at = @at WHERE id = @id", ("@at", times[i]), ("@id", ids[i]));
        }

        await ExecuteAsync("UPDATE customers SET deleted_at = @at WHERE id = @id", ("@at", t.AddSeconds(10)), ("@id", ids[5]));
        int[] expected = [ids[2], ids[3], ids[4], ids[0]];

        var (pages, totals) = await WalkAsync("updated_since=2999-01-01T00:00:00Z&count=exact", 1);
        var (sameInstant, _) = await WalkAsync("updated_since=2999-01-01T01:00:00%2B01:00&sort=updated_at", 3);
        var (filtered, _) = await WalkAsync($"updated_since=2999-01-01T00:00:00.0000001Z&q={tag}", 2);

        Assert.Equal(expected, Ids(pages));
        Assert.Equal(expected, Ids(sameInstant));
        Assert.Equal(expected[1..], Ids(filtered)); // a tenth of a microsecond later leaves out the row at exactly T
        Assert.All(totals, total => Assert.Equal(expected.Length, total));
        Assert.Equal("2999-01-01T00:00:02.000001Z", (string?)pages[1]["updated_at"]);
    }

    [Fact]
    public async Task CountsAreOptInAndCountTheFilteredRowsOnEveryPage()
    {
        var tag = Tag();
        var ids = await CreateTaggedAsync(tag, 5);
        await DeleteAsync(ids[0]);
        await DeleteAsync(ids[1]);

        var plain = await PageAsync("limit=2");
        var (live, liveTotals) = await WalkAsync("count=exact", 2);
        var (tagged, taggedTotals) = await WalkAsync($"q={tag}&count=exact&sort=name", 2);
        var (deleted, deletedTotals) = await WalkAsync("state=deleted&count=exact", 1);
        var (estimatedFiltered, estimatedFilteredTotals) = await WalkAsync($"q={tag}&count=estimated", 2);
        var (_, estimatedDeletedTotals) = await WalkAsync("state=deleted&count=estimated", 5);

        Assert.False(plain.ContainsKey("total"));
        Assert.All(liveTotals, total => Assert.Equal(SampleCustomers + 3, total));
        Assert.Equal(SampleCustomers + 3, live.Count);
        Assert.All(taggedTotals, total => Assert.Equal(3, total));
        Assert.Equal(3, tagged.Count);
        Assert.All(deletedTotals, total => Assert.Equal(2, total));
        Assert.Equal(2, deleted.Count);
        Assert.All(estimatedFilteredTotals, total => Assert.Equal(3, total));
        Assert.Equal(3, estimatedFiltered.Count);
        Assert.Equal([2L], estimatedDeletedTotals);
    }

    [Fact]
    public async Task AnEstimatedCountOfTheWholeListIsTheTableStatisticsWhereTheEngineKeepsThem()
    {
        var ids = await CreateTaggedAsync(Tag(), 4);
        await DeleteAsync(ids[0]);
        var statistics = await TableStatisticsRowsAsync(Database);

        var total = (long?)(await PageAsync("count=estimated&limit=1"))["total"];

        // Without statistics (SQLite) the estimate is the exact count of live customers.
        Assert.Equal(statistics ?? SampleCustomers + 3, total);
    }

    [Fact]
    public async Task ACursorOfTheFirstFormatIsRefusedWith400NotAServerError()
    {
        await CreateTaggedAsync(Tag(), 2);
        var record = new byte[6];
        record[0] = 1; // the format before the lifecycle release
        record[1] = (byte)CustomerSort.IdAscending;
        BinaryPrimitives.WriteInt32BigEndian(record.AsSpan(2), 1);
        var sealedCursor = Factory.Services.GetRequiredService<CursorProtector>().Seal(Base64Url.EncodeToString(record));

        var response = await Client.GetAsync(new Uri($"/customers?after={sealedCursor}", UriKind.Relative));

        await AssertValidationAsync(response, "after");
        Assert.Contains("earlier version", (string)(await response.ReadObjectAsync())["errors"]!["after"]![0]!, StringComparison.Ordinal);
    }

    private async Task<int> CreateWithPhoneAsync(string name, string? phone)
    {
        var response = await Client.PostAsync(new Uri("/customers", UriKind.Relative), Json.Body(new { name, email = Json.UniqueEmail(), phone }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (int)(await response.ReadObjectAsync())["id"]!;
    }

    private async Task<List<int>> PhoneIdsAsync(string phone, string extra = "") =>
        Ids((await PageAsync($"phone={Uri.EscapeDataString(phone)}{extra}"))["items"]!.AsArray().Select(i => i!.AsObject()));

    [Fact]
    public async Task PhoneSearchComparesDigitsOnlyAndMatchesTheStartOfTheNumber()
    {
        var us = await CreateWithPhoneAsync("Phone One", "+1 (555) 010-2000");
        var usToo = await CreateWithPhoneAsync("Phone Two", "1.555.010.3000");
        var local = await CreateWithPhoneAsync("Phone Three", "555-010-2000");
        await CreateWithPhoneAsync("Phone None", null);

        Assert.Equal([us], await PhoneIdsAsync("15550102000"));
        Assert.Equal([us], await PhoneIdsAsync("+1 (555) 010-2000"));
        Assert.Equal([us, usToo], await PhoneIdsAsync("1 555 010"));
        Assert.Equal([us, usToo], await PhoneIdsAsync("+1-555-010"));
        Assert.Equal([local], await PhoneIdsAsync("555-010")); // a prefix: the +1 numbers start with 1
        Assert.Empty(await PhoneIdsAsync("15550109"));
        Assert.Empty(await PhoneIdsAsync("155501020001"));
    }

    [Fact]
    public async Task PhoneSearchWalksPagesWithoutDuplicatesOrGapsInEverySortAndCounts()
    {
        var ids = new List<int>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await CreateWithPhoneAsync($"Pager {(char)('g' - i)}", $"+44 20 7946 0{i:D3}"));
        }

        await CreateWithPhoneAsync("Pager other", "+44 21 7946 0000");

        var (byId, totals) = await WalkAsync("phone=4420794&count=exact", 3);
        Assert.Equal(ids, Ids(byId));
        Assert.All(totals, t => Assert.Equal(7, t));
        Assert.Equal(3, totals.Count);

        var (byName, _) = await WalkAsync("phone=44%2020&sort=name", 2);
        Assert.Equal(Enumerable.Reverse(ids), Ids(byName));
        var (descending, _) = await WalkAsync("phone=442079460&sort=-id", 3);
        Assert.Equal(Enumerable.Reverse(ids), Ids(descending));
    }

    [Fact]
    public async Task PhoneSearchCombinesWithQAndLeavesDeletedCustomersToTheDeletedListing()
    {
        var ann = await CreateWithPhoneAsync("Annabel Phone", "+33 1 23 45 67 89");
        var bob = await CreateWithPhoneAsync("Bob Phone", "+33 1 23 45 67 00");
        var gone = await CreateWithPhoneAsync("Annabel Gone", "+33 1 23 45 00 00");
        await DeleteAsync(gone);

        Assert.Equal([ann], await PhoneIdsAsync("33123", "&q=anna"));
        Assert.Equal([ann, bob], await PhoneIdsAsync("33123"));
        Assert.Equal([gone], await PhoneIdsAsync("33123", "&state=deleted"));
        Assert.Equal([gone], await PhoneIdsAsync("33123", "&state=deleted&q=annabel"));
    }

    [Fact]
    public async Task PhoneSearchFollowsPatchesErasureAndImportedRows()
    {
        var id = await CreateWithPhoneAsync("Changing Phone", "+49 30 1234567");
        Assert.Equal([id], await PhoneIdsAsync("49301234567"));

        async Task PatchAsync(object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri($"/customers/{id}", UriKind.Relative)) { Content = Json.Body(body, "application/merge-patch+json") };
            Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(request)).StatusCode);
        }

        await PatchAsync(new { phone = "(0049) 40-7654321" });
        Assert.Empty(await PhoneIdsAsync("4930"));
        Assert.Equal([id], await PhoneIdsAsync("0049 40"));

        await PatchAsync(new { phone = (string?)null });
        Assert.Empty(await PhoneIdsAsync("0049"));

        await PatchAsync(new { phone = "+49 89 111" });
        await DeleteAsync(id);
        Assert.Equal([id], await PhoneIdsAsync("4989", "&state=deleted"));
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PostAsync(new Uri($"/customers/{id}/erase", UriKind.Relative), null)).StatusCode);
        Assert.Empty(await PhoneIdsAsync("4989", "&state=deleted"));

        using var csv = new StringContent($"name,email,phone\nImported Phone,{Json.UniqueEmail()},+49 (221) 99-88\n", System.Text.Encoding.UTF8, "text/csv");
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync(new Uri("/customers/import", UriKind.Relative), csv)).StatusCode);
        var imported = (await PageAsync("phone=492219988"))["items"]!.AsArray();
        Assert.Equal("Imported Phone", (string)Assert.Single(imported)!["name"]!);
    }

    [Theory]
    [InlineData("phone=")]
    [InlineData("phone=%20%20")]
    [InlineData("phone=-%20()")]
    [InlineData("phone=555x010")]
    [InlineData("phone=%2B1%2F555")]
    [InlineData("phone=123456789012345678901")]
    [InlineData("phone=555&q=")]
    public async Task APhoneSearchWithoutADigitOrWithOtherCharactersOrTooLongIsRefusedNamingPhone(string query) =>
        await AssertValidationAsync(await Client.GetAsync(new Uri("/customers?" + query, UriKind.Relative)), query.EndsWith("q=", StringComparison.Ordinal) ? "q" : "phone");

    [Fact]
    public async Task APhoneSearchCursorCarriesNeitherThePhoneNorItsDigits()
    {
        for (var i = 0; i < 2; i++)
        {
            await CreateWithPhoneAsync($"Cursor Phone {i}", $"+1 212 555 01{i:D2}");
        }

        var next = (string)(await PageAsync("phone=1212555&limit=1&sort=name"))["next"]!;
        var opened = Factory.Services.GetRequiredService<CursorProtector>().TryOpen(next, out var inner) ? inner : null;
        Assert.NotNull(opened);
        var bytes = Base64Url.DecodeFromChars(opened);
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        Assert.DoesNotContain("1212555", text, StringComparison.Ordinal);
        Assert.Equal(6 + "cursor phone 0".Length, bytes.Length); // version, sort, id, name key: nothing else
    }

    [Fact]
    public async Task ACursorOfTheLiveListingIsRefusedByTheDeletedListing()
    {
        await CreateTaggedAsync(Tag(), 2);
        var next = (string)(await PageAsync("limit=1"))["next"]!;

        await AssertValidationAsync(await Client.GetAsync(new Uri($"/customers?state=deleted&after={next}", UriKind.Relative)), "after");
    }
}

/// <summary>The lifecycle list contract on the embedded default: a SQLite file per test.</summary>
public sealed class SqliteCustomerListsApiTests : CustomerListsApiContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();

    private protected override Task<long?> TableStatisticsRowsAsync(AppDatabase database) => Task.FromResult<long?>(null);
}

/// <summary>The lifecycle list contract over a real MariaDB server, with the sample customers seeded.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MariaDbCustomerListsApiTests(MariaDbFixture mariaDb) : CustomerListsApiContract
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => MariaDbDatabaseAsync(mariaDb, seedSampleData: true);

    private protected override async Task<long?> TableStatisticsRowsAsync(AppDatabase database)
    {
        await using var connection = await database.Writer.OpenConnectionAsync();
        await using var analyze = connection.CreateCommand("ANALYZE TABLE customers");
        await analyze.ExecuteNonQueryAsync();
        await using var command = connection.CreateCommand(
            "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'customers'");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
