using CustomerRecords.Api.Customers;


namespace CustomerRecords.Tests.Customers;

public class CustomerListQueryTests
{
    [Fact]
    public void DefaultsAreFiftyById()
    {
        Assert.True(CustomerListQuery.TryCreate(null, null, null, null, null, out var query, out _));
        Assert.Equal(50, query.Limit);
        Assert.Equal(CustomerSort.IdAscending, query.Sort);
        Assert.Null(query.After);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    public void CursorRoundTrips(int sortCode)
    {
        var sort = (CustomerSort)sortCode;
        var last = new Customer(42, "Zoë 🦄", "z@example.com", null, new DateTime(2026, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc).AddTicks(9990), DateTime.UtcNow, 1);
        var encoded = CustomerCursor.After(sort, last).Encode();

        Assert.True(CustomerCursor.TryDecode(encoded, sort, out var decoded, out _));

        Assert.Equal(CustomerCursor.After(sort, last), decoded);
        Assert.DoesNotContain('=', encoded);
        Assert.DoesNotContain('+', encoded);
    }

    [Fact]
    public void CursorOfAnotherSortIsRejected()
    {
        var encoded = new CustomerCursor(CustomerSort.NameAscending, 1, "a", null).Encode();
        Assert.False(CustomerCursor.TryDecode(encoded, CustomerSort.IdAscending, out _, out var error));
        Assert.Contains("sort", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("AAAA")]
    [InlineData("AQEAAAAqAA")]
    [InlineData("AgEAAAAqAA")]  // an id cursor with two stray bytes
    [InlineData("AwEAAAAq")]    // a format version yet to come
    public void MalformedCursorsAreRejected(string text) =>
        Assert.False(CustomerCursor.TryDecode(text, CustomerSort.IdAscending, out _, out _));

    [Theory]
    [InlineData("1", true)]
    [InlineData("500", true)]
    [InlineData("0", false)]
    [InlineData("501", false)]
    [InlineData("+5", false)]
    [InlineData("5.0", false)]
    public void LimitMustBeOneToFiveHundred(string limit, bool valid) =>
        Assert.Equal(valid, CustomerListQuery.TryCreate(limit, null, null, null, null, out _, out _));

    private static CustomerListQuery Valid(string? sort = null, string? state = null, string? updatedSince = null, string? count = null, string? after = null)
    {
        Assert.True(CustomerListQuery.TryCreate(null, after, null, null, sort, state, updatedSince, count, phone: null, out var query, out var errors), string.Join("; ", errors.Keys));
        return query;
    }

    private static string[] Refused(string? sort = null, string? state = null, string? updatedSince = null, string? count = null)
    {
        Assert.False(CustomerListQuery.TryCreate(null, null, null, null, sort, state, updatedSince, count, phone: null, out _, out var errors));
        return [.. errors.Keys.Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void ListsAreOfLiveCustomersByDefaultAndCountNothing()
    {
        var query = Valid();
        Assert.Equal(CustomerState.Live, query.State);
        Assert.Null(query.UpdatedSince);
        Assert.Equal(CustomerCount.None, query.Count);
        Assert.Equal(CustomerState.Live, Valid(state: "live").State);
    }

    [Fact]
    public void TheDeletedListingDefaultsToTheNewestDeletionFirst()
    {
        var query = Valid(state: "deleted");
        Assert.Equal(CustomerState.Deleted, query.State);
        Assert.Equal(CustomerSort.DeletedAtDescending, query.Sort);
        Assert.Equal(CustomerSort.DeletedAtAscending, Valid(sort: "deleted_at", state: "deleted").Sort);
        Assert.Equal(CustomerSort.DeletedAtDescending, Valid(sort: "-deleted_at", state: "deleted").Sort);
    }

    [Theory]
    [InlineData("id")]
    [InlineData("-name")]
    [InlineData("created_at")]
    [InlineData("updated_at")]
    public void TheDeletedListingRefusesTheLiveSortsNamingSort(string sort) =>
        Assert.Equal(["sort"], Refused(sort: sort, state: "deleted"));

    [Theory]
    [InlineData("deleted_at")]
    [InlineData("-deleted_at")]
    public void TheDeletedAtSortsNeedTheDeletedListing(string sort) =>
        Assert.Equal(["sort"], Refused(sort: sort));

    [Theory]
    [InlineData("Deleted")]
    [InlineData("all")]
    [InlineData("")]
    public void AnUnknownStateIsRefusedNamingState(string state) =>
        Assert.Equal(["state"], Refused(state: state));

    [Theory]
    [InlineData("updated_at", (byte)CustomerSort.UpdatedAtAscending)]
    [InlineData("-updated_at", (byte)CustomerSort.UpdatedAtDescending)]
    public void UpdatedAtSortsListLiveCustomers(string sort, byte expected) =>
        Assert.Equal((CustomerSort)expected, Valid(sort: sort).Sort);

    [Fact]
    public void UpdatedSinceReadsOldestChangeFirstAndAllowsOnlyThatSort()
    {
        var query = Valid(updatedSince: "2026-01-02T03:04:05Z");
        Assert.Equal(CustomerSort.UpdatedAtAscending, query.Sort);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), query.UpdatedSince);
        Assert.Equal(CustomerSort.UpdatedAtAscending, Valid(sort: "updated_at", updatedSince: "2026-01-02T03:04:05Z").Sort);

        foreach (var sort in new[] { "-updated_at", "id", "-id", "name", "created_at", "-created_at" })
        {
            Assert.Equal(["sort"], Refused(sort: sort, updatedSince: "2026-01-02T03:04:05Z"));
        }
    }

    [Fact]
    public void UpdatedSinceDoesNotCombineWithTheDeletedListing() =>
        Assert.Equal(["updated_since"], Refused(state: "deleted", updatedSince: "2026-01-02T03:04:05Z"));

    [Theory]
    [InlineData("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.0000000Z")]
    [InlineData("2026-01-02t03:04:05z", "2026-01-02T03:04:05.0000000Z")]
    [InlineData("2026-01-02T05:04:05+02:00", "2026-01-02T03:04:05.0000000Z")]
    [InlineData("2026-01-01T23:04:05-04:00", "2026-01-02T03:04:05.0000000Z")]
    [InlineData("2026-01-02T03:04:05.5Z", "2026-01-02T03:04:05.5000000Z")]
    [InlineData("2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.1234560Z")]
    [InlineData("2026-01-02T03:04:05.1234561Z", "2026-01-02T03:04:05.1234570Z")]    // finer than a microsecond: rounded up
    [InlineData("2026-01-02T03:04:05.123456001Z", "2026-01-02T03:04:05.1234570Z")]
    [InlineData("2026-01-02T03:04:05.123456000Z", "2026-01-02T03:04:05.1234560Z")]
    [InlineData("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.0000000Z")]
    [InlineData("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.9999990Z")]
    public void UpdatedSinceIsAnRfc3339InstantInUtcAtTheStoredPrecision(string text, string expected)
    {
        var since = Valid(updatedSince: text).UpdatedSince!.Value;
        Assert.Equal(DateTimeKind.Utc, since.Kind);
        Assert.Equal(expected, since.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2026-01-02")]
    [InlineData("2026-01-02T03:04:05")]             // no offset
    [InlineData("2026-01-02 03:04:05Z")]            // a space for the T
    [InlineData("2026-01-02T03:04:05 02:00")]       // a '+' sent unencoded arrives as a space
    [InlineData("2026-01-02T03:04Z")]
    [InlineData("2026-13-02T03:04:05Z")]
    [InlineData("2026-02-30T03:04:05Z")]
    [InlineData("2026-01-02T24:00:00Z")]
    [InlineData("2026-12-31T23:59:60Z")]            // leap seconds are not stored
    [InlineData("2026-01-02T03:04:05+24:00")]
    [InlineData("0001-01-01T00:00:00+01:00")]       // before the first representable instant
    [InlineData("9999-12-31T23:59:59.9999999Z")]    // rounds up past the last one
    [InlineData("9999-12-31T23:00:00-01:00")]
    [InlineData("2026-01-02T03:04:05.Z")]
    [InlineData("2026-01-02T03:04:05.1234567890Z")]
    [InlineData("٢٠٢٦-01-02T03:04:05Z")] // Arabic-Indic digits
    [InlineData("2026-01-02T03:04:05Z\n")]
    [InlineData("1767322800")]
    [InlineData("")]
    public void AnythingElseAsUpdatedSinceIsRefusedNamingIt(string text) =>
        Assert.Equal(["updated_since"], Refused(updatedSince: text));

    [Theory]
    [InlineData("exact", (byte)CustomerCount.Exact)]
    [InlineData("estimated", (byte)CustomerCount.Estimated)]
    public void CountIsExactOrEstimated(string count, byte expected) =>
        Assert.Equal((CustomerCount)expected, Valid(count: count).Count);

    [Theory]
    [InlineData("true")]
    [InlineData("Exact")]
    [InlineData("")]
    public void AnUnknownCountIsRefusedNamingCount(string count) =>
        Assert.Equal(["count"], Refused(count: count));

    [Fact]
    public void ACursorOfTheDeletedListingCarriesTheDeletionTime()
    {
        var deletedAt = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1230);
        var last = new Customer(9, "Gone", "gone@example.com", null, DateTime.UtcNow, DateTime.UtcNow, 2, deletedAt);
        var encoded = CustomerCursor.After(CustomerSort.DeletedAtDescending, last).Encode();

        var query = Valid(state: "deleted", after: encoded);

        Assert.Equal(new CustomerCursor(CustomerSort.DeletedAtDescending, 9, null, deletedAt), query.After);
    }

    [Fact]
    public void ACursorOfTheLiveListingIsRefusedByTheDeletedOne()
    {
        var encoded = new CustomerCursor(CustomerSort.IdAscending, 9, null, null).Encode();
        Assert.False(CustomerListQuery.TryCreate(null, encoded, null, null, null, "deleted", null, null, phone: null, out _, out var errors));
        Assert.Equal(["after"], errors.Keys);
    }
}
