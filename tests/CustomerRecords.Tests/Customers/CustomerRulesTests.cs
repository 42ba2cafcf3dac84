using CustomerRecords.Api.Customers;


namespace CustomerRecords.Tests.Customers;

public class CustomerRulesTests
{
    [Theory]
    [InlineData("john.doe@example.com")]
    [InlineData("o'brien+tag@sub.example.co.uk")]
    [InlineData("zoë@exämple.com")]
    [InlineData("UPPER@EXAMPLE.COM")]
    public void ValidEmailsAreAccepted(string email) => Assert.True(CustomerRules.IsValidEmail(email));

    [Theory]
    [InlineData("plainaddress")]
    [InlineData("@example.com")]
    [InlineData("a@")]
    [InlineData("a@b")]
    [InlineData("a b@example.com")]
    [InlineData("a@example..com")]
    [InlineData("a..b@example.com")]
    [InlineData("a@example.com.")]
    [InlineData("Name <a@example.com>")]
    [InlineData("a@example.com, b@example.com")]
    [InlineData("a\u0000@example.com")]
    public void InvalidEmailsAreRejected(string email) => Assert.False(CustomerRules.IsValidEmail(email));

    [Theory]
    [InlineData("+1-555-0123", "+1-555-0123")]
    [InlineData(" (020) 7946.0958 ", "(020) 7946.0958")]
    [InlineData("", null)]
    public void PhonesAreTrimmedAndAccepted(string raw, string? expected)
    {
        var (value, error) = CustomerRules.NormalizePhone(raw);
        Assert.Null(error);
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("555-CALL-NOW")]
    [InlineData("123456789012345678901")]
    [InlineData("+1\t555")]
    public void BadPhonesAreRejected(string raw) => Assert.NotNull(CustomerRules.NormalizePhone(raw).Error);

    [Theory]
    [InlineData("  Ada  ", "Ada")]
    [InlineData("שלום 🦄", "שלום 🦄")]
    public void NamesAreTrimmed(string raw, string expected) => Assert.Equal(expected, CustomerRules.NormalizeName(raw).Value);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Line\nBreak")]
    [InlineData("Tab\tInside")]
    public void EmptyOrControlCharacterNamesAreRejected(string raw) => Assert.NotNull(CustomerRules.NormalizeName(raw).Error);

    [Fact]
    public void EmailKeyIgnoresCase() =>
        Assert.Equal(CustomerRules.EmailKey("John.Doe@Example.COM"), CustomerRules.EmailKey("john.doe@example.com"));

    [Fact]
    public void PatchKeepsAbsentFieldsAndClearsPhoneOnNull()
    {
        Assert.True(CustomerBody.TryParse("{\"phone\":null}"u8, false, out var body, out var errors));
        Assert.True(CustomerRules.TryValidatePatch(body, errors, out var change));
        Assert.Null(change.Name);
        Assert.Null(change.Email);
        Assert.True(change.SetPhone);
        Assert.Null(change.Phone);
    }

    [Fact]
    public void PatchWithoutPhoneLeavesItAlone()
    {
        Assert.True(CustomerBody.TryParse("{\"name\":\"N\"}"u8, false, out var body, out var errors));
        Assert.True(CustomerRules.TryValidatePatch(body, errors, out var change));
        Assert.Equal("N", change.Name);
        Assert.False(change.SetPhone);
    }
}
