using System.Text;
using CustomerRecords.Api.Bulk;

namespace CustomerRecords.Tests.Bulk;

/// <summary>
/// Bad customer files on SQLite: each gives a clear rejection of its line (line, field, reason) while the good rows go
/// in, or one clear error for the file that names the line; never a write the summary does not account for.
/// </summary>
public sealed class ImportBadInputTests : ImportSuite
{
    protected override Task<Dictionary<string, string?>> NewDatabaseSettingsAsync() => SqliteDatabaseAsync();

    private Task<long> CountAsync() => ScalarAsync("SELECT COUNT(*) FROM customers");

    [Theory]
    [InlineData("name,email,nickname\nA,a@example.org,x\n", "'nickname'")]
    [InlineData("name,phone\nA,123\n", "no email column")]
    [InlineData("email\na@example.org\n", "no name column")]
    [InlineData("name,email,Email\nA,a@example.org,b@example.org\n", "more than once")]
    [InlineData("", "empty")]
    public async Task AWrongHeaderOrAnEmptyFileIsOneErrorForTheFileAndWritesNothing(string file, string expected)
    {
        var summary = await ImportAsync(file);

        Assert.True(summary.FileError);
        Assert.Equal(1, summary.StoppedAtLine);
        Assert.Contains(expected, summary.StopReason, StringComparison.Ordinal);
        Assert.Equal(1, summary.ExitCode);
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task AHeaderOnlyFileImportsNothingAndSucceeds()
    {
        var summary = await ImportAsync("id,name,email,phone,created_at,updated_at,version\r\n");

        Assert.Equal((0L, 0), (summary.Read, summary.ExitCode));
    }

    [Fact]
    public async Task HeaderNamesIgnoreCaseAndSpacesAndAUtf8BomIsAccepted()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(" Name , EMAIL \nA,a@example.org\n")).ToArray();

        var summary = await ImportAsync(bytes);

        Assert.Equal((1L, 0), (summary.Created, summary.ExitCode));
    }

    [Fact]
    public async Task AUtf16FileIsOneErrorForTheFile()
    {
        var summary = await ImportAsync(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("name,email\nA,a@example.org\n")).ToArray());

        Assert.True(summary.FileError);
        Assert.Contains("UTF", summary.StopReason, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task InvalidUtf8RejectsTheLineAndFieldThatHoldIt()
    {
        var bytes = Encoding.UTF8.GetBytes("name,email\nGood,good@example.org\nBad")
            .Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes(",bad@example.org\nAlso good,also@example.org\n")).ToArray();
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync(bytes, rejected: rejected);

        Assert.Equal(new ImportRejection(3, "name", "The field is not valid UTF-8 text."), Assert.Single(rejected));
        Assert.Equal((2L, 1L, 3), (summary.Created, summary.Rejected, summary.ExitCode));
    }

    [Fact]
    public async Task NulBytesRejectTheirLine()
    {
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync("name,email,phone\nN\0ul,nul@example.org,\nOk,ok@example.org,12\0 3\n", rejected: rejected);

        Assert.Equal(["name", "phone"], rejected.Select(r => r.Field));
        Assert.Equal([2L, 3L], rejected.Select(r => r.Line));
        Assert.Equal(0, summary.Created);
    }

    [Fact]
    public async Task AQuoteLeftOpenRejectsItsLineAndSaysTheRestOfTheFileWentIntoIt()
    {
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync("name,email\nBefore,before@example.org\n\"Open,open@example.org\nAfter,after@example.org\n", rejected: rejected);

        var rejection = Assert.Single(rejected);
        Assert.Equal(3, rejection.Line);
        Assert.Contains("never closed", rejection.Reason, StringComparison.Ordinal);
        Assert.Equal((1L, 1L), (summary.Created, summary.Rejected));
        Assert.Equal(["before@example.org"], await ColumnAsync("SELECT email FROM customers"));
    }

    [Fact]
    public async Task AStrayQuoteRejectsItsLine()
    {
        var rejected = new List<ImportRejection>();

        await ImportAsync("name,email\nSay \"hi\",hi@example.org\n\"Quoted \"\"right\"\"\",right@example.org\n", rejected: rejected);

        Assert.Equal(2, Assert.Single(rejected).Line);
        Assert.Equal(["Quoted \"right\""], await ColumnAsync("SELECT name FROM customers"));
    }

    [Fact]
    public async Task ATenMegabyteFieldIsOneErrorForTheFileNamingItsLine()
    {
        var file = "name,email\nFirst,first@example.org\n\"" + new string('x', 10 * 1024 * 1024) + "\",big@example.org\n";

        var summary = await ImportAsync(file);

        Assert.True(summary.FileError);
        Assert.Equal(3, summary.StoppedAtLine);
        Assert.Contains("line 3", summary.StopReason, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", summary.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync());
    }

    [Fact]
    public async Task ALongFieldUnderTheCapIsRejectedByTheRules()
    {
        var rejected = new List<ImportRejection>();

        await ImportAsync("name,email\n" + new string('n', 300_000) + ",long@example.org\n", rejected: rejected);

        Assert.Equal("name", Assert.Single(rejected).Field);
    }

    [Fact]
    public async Task RowsWithExtraOrMissingFieldsAreRejected()
    {
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync("name,email,phone\nA,a@example.org,1,extra\nB,b@example.org\nC,c@example.org,3\n", rejected: rejected);

        Assert.Equal([2L, 3L], rejected.Select(r => r.Line));
        Assert.All(rejected, r => Assert.Equal("$", r.Field));
        Assert.Equal(1, summary.Created);
    }

    [Fact]
    public async Task ADuplicateEmailInsideTheFileRejectsTheLaterLine()
    {
        var rejected = new List<ImportRejection>();

        var summary = await ImportAsync("name,email\nFirst,dup@example.org\nSecond,DUP@Example.org\n", rejected: rejected);

        Assert.Equal(new ImportRejection(3, "email", "The email appears on an earlier line of the file (letter case ignored)."), Assert.Single(rejected));
        Assert.Equal(["First"], await ColumnAsync("SELECT name FROM customers"));
        Assert.Equal(3, summary.ExitCode);
    }

    [Fact]
    public async Task BadNdjsonLinesAreRejectedOneByOne()
    {
        var rejected = new List<ImportRejection>();
        var file = string.Join('\n',
            """{"name":"Good","email":"good@example.org"}""",
            """["not","an","object"]""",
            """{"name":"X","email":"x@example.org","nickname":"y"}""",
            """{"name":42,"email":"n@example.org"}""",
            """{"name":"Y","email":"y@example.org","id":"7"}""",
            """{"name":"Z","email":""",
            "",
            """{"name":"Last","email":"last@example.org","phone":null}""");

        var summary = await ImportAsync(file, rejected: rejected, format: CustomerFileFormat.Ndjson);

        Assert.Equal(
            [(2L, "$"), (3L, "$"), (4L, "name"), (5L, "id"), (6L, "$")],
            rejected.Select(r => (r.Line, r.Field)));
        Assert.Contains("nickname", rejected[1].Reason, StringComparison.Ordinal);
        Assert.Equal((7L, 2L, 5L), (summary.Read, summary.Created, summary.Rejected));
    }
}
