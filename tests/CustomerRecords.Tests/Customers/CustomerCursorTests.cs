using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// The cursor's wire format, one sort at a time. <see cref="CustomerListQueryTests"/> covers the
/// <c>After</c> round trip for three sorts and a few malformed strings.
/// </summary>
public class CustomerCursorTests
{
    private const string NotValid = "The cursor is not valid; pass the 'next' value of a previous page unchanged.";
    private const string OtherSort = "The cursor was issued for a different sort order.";
    private const string Earlier = "The cursor was issued by an earlier version of the service; start again from the first page.";

    /// <summary>The format version of the cursors this service issues.</summary>
    private const byte V = 2;

    private const byte Id = 1;
    private const byte IdDesc = 2;
    private const byte Name = 3;
    private const byte NameDesc = 4;
    private const byte Created = 5;
    private const byte CreatedDesc = 6;
    private const byte Updated = 7;
    private const byte UpdatedDesc = 8;
    private const byte Deleted = 9;
    private const byte DeletedDesc = 10;

    /// <summary>The record as the format describes it: version, sort, big-endian id, then the sort key.</summary>
    private static byte[] Record(byte version, byte sort, int id, byte[] rest)
    {
        var bytes = new byte[6 + rest.Length];
        bytes[0] = version;
        bytes[1] = sort;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(2), id);
        rest.CopyTo(bytes, 6);
        return bytes;
    }

    private static byte[] Ticks(long ticks)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, ticks);
        return bytes;
    }

    private static string Text(byte[] bytes) => Base64Url.EncodeToString(bytes);

    private static void AssertRefused(string text, CustomerSort sort, string expectedError)
    {
        Assert.False(CustomerCursor.TryDecode(text, sort, out var cursor, out var error));
        Assert.Equal(expectedError, error);
        Assert.Equal(default, cursor);
    }

    private static CustomerCursor Decoded(string text, CustomerSort sort)
    {
        Assert.True(CustomerCursor.TryDecode(text, sort, out var cursor, out var error));
        Assert.Null(error);
        return cursor;
    }

    [Theory]
    [InlineData(Id, 42)]
    [InlineData(IdDesc, 42)]
    [InlineData(Id, 0)]
    [InlineData(IdDesc, int.MaxValue)]
    public void IdSortCursorsRoundTripTheIdAlone(byte sortCode, int id)
    {
        var sort = (CustomerSort)sortCode;

        var decoded = Decoded(new CustomerCursor(sort, id, null, null).Encode(), sort);

        Assert.Equal(new CustomerCursor(sort, id, null, null), decoded);
    }

    [Theory]
    [InlineData(Name, "ann")]
    [InlineData(NameDesc, "ann")]
    [InlineData(Name, "zoë 🦄")]
    [InlineData(NameDesc, "日本語の名前")]
    [InlineData(Name, "o'brien, jr. \"the 2nd\"")]
    [InlineData(NameDesc, "")]
    public void NameSortCursorsKeepTheNameKey(byte sortCode, string nameKey)
    {
        var sort = (CustomerSort)sortCode;

        var decoded = Decoded(new CustomerCursor(sort, 7, nameKey, null).Encode(), sort);

        Assert.Equal(sort, decoded.Sort);
        Assert.Equal(7, decoded.Id);
        Assert.Equal(nameKey, decoded.NameKey);
        Assert.Null(decoded.At);
    }

    [Theory]
    [InlineData(Created, 639_000_000_000_000_000L)]
    [InlineData(CreatedDesc, 639_000_000_000_000_000L)]
    [InlineData(Created, 639_000_000_000_000_001L)] // a single tick apart must stay apart
    [InlineData(CreatedDesc, 0L)]                   // DateTime.MinValue
    [InlineData(Created, 3_155_378_975_999_999_999L)] // DateTime.MaxValue
    [InlineData(Updated, 639_000_000_000_000_001L)]
    [InlineData(UpdatedDesc, 639_000_000_000_000_000L)]
    [InlineData(Deleted, 639_000_000_000_000_001L)]
    [InlineData(DeletedDesc, 3_155_378_975_999_999_999L)]
    public void TimeSortCursorsKeepTheUtcTicks(byte sortCode, long ticks)
    {
        var sort = (CustomerSort)sortCode;
        var created = new DateTime(ticks, DateTimeKind.Utc);

        var decoded = Decoded(new CustomerCursor(sort, 9, null, created).Encode(), sort);

        Assert.Equal(sort, decoded.Sort);
        Assert.Equal(9, decoded.Id);
        Assert.Null(decoded.NameKey);
        Assert.NotNull(decoded.At);
        Assert.Equal(ticks, decoded.At.Value.Ticks);
        Assert.Equal(DateTimeKind.Utc, decoded.At.Value.Kind);
    }

    [Fact]
    public void EncodingIsVersionSortBigEndianIdThenKey()
    {
        Assert.Equal(Record(V, Id, 42, []), Base64Url.DecodeFromChars(new CustomerCursor(CustomerSort.IdAscending, 42, null, null).Encode()));
        Assert.Equal("AgEAAAAq", new CustomerCursor(CustomerSort.IdAscending, 42, null, null).Encode());
        Assert.Equal(
            Record(V, NameDesc, 258, Encoding.UTF8.GetBytes("zoë")),
            Base64Url.DecodeFromChars(new CustomerCursor(CustomerSort.NameDescending, 258, "zoë", null).Encode()));
        Assert.Equal(
            Record(V, Created, -1, Ticks(638_000_000_000_000_000L)),
            Base64Url.DecodeFromChars(new CustomerCursor(CustomerSort.CreatedAtAscending, -1, null, new DateTime(638_000_000_000_000_000L, DateTimeKind.Utc)).Encode()));
    }

    [Fact]
    public void CursorsWrittenByHandInTheDocumentedFormatAreRead()
    {
        Assert.Equal(new CustomerCursor(CustomerSort.IdDescending, 5, null, null), Decoded(Text(Record(V, IdDesc, 5, [])), CustomerSort.IdDescending));
        Assert.Equal("bé", Decoded(Text(Record(V, Name, 5, Encoding.UTF8.GetBytes("bé"))), CustomerSort.NameAscending).NameKey);
        Assert.Equal(
            new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            Decoded(Text(Record(V, CreatedDesc, 5, Ticks(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).Ticks))), CustomerSort.CreatedAtDescending).At);
    }

    [Theory]
    [InlineData(Id, IdDesc)]
    [InlineData(IdDesc, Id)]
    [InlineData(Name, NameDesc)]
    [InlineData(NameDesc, Name)]
    [InlineData(Created, CreatedDesc)]
    [InlineData(CreatedDesc, Created)]
    [InlineData(Name, Created)]
    [InlineData(Created, Id)]
    [InlineData(Id, Name)]
    public void CursorForAnotherSortIsRefusedAsADifferentSortOrder(byte issuedFor, byte requested)
    {
        var issued = (CustomerSort)issuedFor;
        var cursor = new CustomerCursor(
            issued,
            3,
            issued is CustomerSort.NameAscending or CustomerSort.NameDescending ? "ann" : null,
            issued is CustomerSort.CreatedAtAscending or CustomerSort.CreatedAtDescending ? new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) : null);

        AssertRefused(cursor.Encode(), (CustomerSort)requested, OtherSort);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    public void CursorOfAnotherFormatVersionIsRefused(byte version)
    {
        AssertRefused(Text(Record(version, Id, 42, [])), CustomerSort.IdAscending, NotValid);
        // The version is checked before the sort, so a future format never reads as "another sort".
        AssertRefused(Text(Record(version, Name, 42, [])), CustomerSort.IdAscending, NotValid);
    }

    /// <summary>Version 1 cursors were issued before lists left out deleted customers: refused, saying why, whatever their sort.</summary>
    [Theory]
    [InlineData(Id, 0)]
    [InlineData(Name, 3)]
    [InlineData(Created, 8)]
    [InlineData(Updated, 8)]
    public void CursorOfTheFirstFormatIsRefusedAsIssuedByAnEarlierVersion(byte sort, int keyBytes)
    {
        var bytes = Record(1, sort, 42, new byte[keyBytes]);
        AssertRefused(Text(bytes), (CustomerSort)sort, Earlier);
        AssertRefused(Text(bytes), CustomerSort.IdAscending, Earlier);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    [InlineData(255)]
    public void CursorWithAnUnknownSortIsRefusedAsInvalid(byte sort) =>
        AssertRefused(Text(Record(V, sort, 42, [])), CustomerSort.IdAscending, NotValid);

    [Theory]
    [InlineData(Id, 1)]
    [InlineData(IdDesc, 8)]
    [InlineData(Created, 7)]
    [InlineData(CreatedDesc, 9)]
    [InlineData(Created, 0)]
    [InlineData(Updated, 7)]
    [InlineData(UpdatedDesc, 0)]
    [InlineData(Deleted, 9)]
    [InlineData(DeletedDesc, 16)]
    public void CursorWithTheWrongLengthForItsSortIsRefused(byte sort, int keyBytes) =>
        AssertRefused(Text(Record(V, sort, 42, new byte[keyBytes])), (CustomerSort)sort, NotValid);

    [Theory]
    [InlineData(Id)]
    [InlineData(NameDesc)]
    [InlineData(Created)]
    public void TruncatedCursorIsRefused(byte sortCode)
    {
        var sort = (CustomerSort)sortCode;
        var bytes = Base64Url.DecodeFromChars(new CustomerCursor(sort, 42, sort == CustomerSort.NameDescending ? "é" : null,
            sort == CustomerSort.CreatedAtAscending ? new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) : null).Encode());

        // Cut one byte: for the name sort that splits the two-byte "é", for the others it breaks the fixed length.
        AssertRefused(Text(bytes[..^1]), sort, NotValid);
    }

    [Theory]
    [InlineData(new byte[] { 0xC3 })]             // a lead byte without its continuation
    [InlineData(new byte[] { 0x61, 0x80 })]       // a lone continuation byte
    [InlineData(new byte[] { 0xC0, 0xAF })]       // an overlong "/"
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // a UTF-16 surrogate
    [InlineData(new byte[] { 0xFF })]
    public void NameCursorWithInvalidUtf8IsRefused(byte[] name) =>
        AssertRefused(Text(Record(V, Name, 42, name)), CustomerSort.NameAscending, NotValid);

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(3_155_378_976_000_000_000L)] // DateTime.MaxValue.Ticks + 1
    [InlineData(long.MaxValue)]
    public void CreatedAtCursorWithTicksOutsideDateTimeIsRefused(long ticks) =>
        AssertRefused(Text(Record(V, Created, 42, Ticks(ticks))), CustomerSort.CreatedAtAscending, NotValid);

    [Theory]
    [InlineData("not a cursor")]
    [InlineData("A")]
    [InlineData("AgEAAA")]      // 4 bytes: shorter than version, sort and id
    [InlineData("AgEAAAA")]     // 5 bytes
    [InlineData("AgEA*AAq")]
    [InlineData("AgEA+AAq")]    // base64, not base64url
    [InlineData("AgEA/AAq")]
    public void GarbageIsRefused(string text) =>
        AssertRefused(text, CustomerSort.IdAscending, NotValid);

    [Fact]
    public void EmptyCursorIsRefusedForEverySort()
    {
        foreach (var sort in Enum.GetValues<CustomerSort>())
        {
            AssertRefused("", sort, NotValid);
        }
    }

    [Fact]
    public void CursorOfExactly2048CharactersIsReadAndOneLongerIsRefused()
    {
        // 6 header bytes + 1530 name bytes = 1536 bytes = 2048 base64url characters.
        var atLimit = new CustomerCursor(CustomerSort.NameAscending, 1, new string('a', 1530), null).Encode();
        var overLimit = new CustomerCursor(CustomerSort.NameAscending, 1, new string('a', 1531), null).Encode();

        Assert.Equal(2048, atLimit.Length);
        Assert.Equal(new string('a', 1530), Decoded(atLimit, CustomerSort.NameAscending).NameKey);
        Assert.True(overLimit.Length > 2048);
        AssertRefused(overLimit, CustomerSort.NameAscending, NotValid);
    }
}
