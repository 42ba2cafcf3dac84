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

    [Theory]
    [InlineData("+")]
    [InlineData("--")]
    [InlineData("()")]
    [InlineData(" . ")]
    [InlineData("+-() .")]
    public void PhonesWithoutADigitAreRejected(string raw) =>
        Assert.Equal("The phone must contain at least one digit.", CustomerRules.NormalizePhone(raw).Error);

    [Theory]
    [InlineData("+1")]
    [InlineData("(0)")]
    public void OneDigitMakesAPhone(string raw) => Assert.Null(CustomerRules.NormalizePhone(raw).Error);

    [Theory]
    [InlineData(0x202A)] // LEFT-TO-RIGHT EMBEDDING
    [InlineData(0x202B)] // RIGHT-TO-LEFT EMBEDDING
    [InlineData(0x202C)] // POP DIRECTIONAL FORMATTING
    [InlineData(0x202D)] // LEFT-TO-RIGHT OVERRIDE
    [InlineData(0x202E)] // RIGHT-TO-LEFT OVERRIDE
    [InlineData(0x2066)] // LEFT-TO-RIGHT ISOLATE
    [InlineData(0x2067)] // RIGHT-TO-LEFT ISOLATE
    [InlineData(0x2068)] // FIRST STRONG ISOLATE
    [InlineData(0x2069)] // POP DIRECTIONAL ISOLATE
    public void NamesWithBidiEmbeddingOverrideOrIsolateControlsAreRejected(int codePoint)
    {
        foreach (var name in Placements(char.ConvertFromUtf32(codePoint)))
        {
            var error = CustomerRules.NormalizeName(name).Error;
            Assert.NotNull(error);
            Assert.Contains($"U+{codePoint:X4}", error, StringComparison.Ordinal);
            Assert.Contains("bidirectional", error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0x200B)] // ZERO WIDTH SPACE
    [InlineData(0x2060)] // WORD JOINER
    [InlineData(0xFEFF)] // ZERO WIDTH NO-BREAK SPACE (byte-order mark)
    [InlineData(0x00AD)] // SOFT HYPHEN
    [InlineData(0x2061)] // FUNCTION APPLICATION
    [InlineData(0x2062)] // INVISIBLE TIMES
    [InlineData(0x2063)] // INVISIBLE SEPARATOR
    [InlineData(0x2064)] // INVISIBLE PLUS
    [InlineData(0x206A)] // INHIBIT SYMMETRIC SWAPPING (deprecated)
    [InlineData(0x206F)] // NOMINAL DIGIT SHAPES (deprecated)
    [InlineData(0xFFF9)] // INTERLINEAR ANNOTATION ANCHOR
    [InlineData(0x0600)] // ARABIC NUMBER SIGN
    [InlineData(0xE0001)] // LANGUAGE TAG
    [InlineData(0xE0041)] // TAG LATIN CAPITAL LETTER A, outside a flag
    [InlineData(0xE007F)] // CANCEL TAG, outside a flag
    [InlineData(0x1D173)] // MUSICAL SYMBOL BEGIN BEAM
    public void NamesWithInvisibleFormatCharactersAreRejected(int codePoint)
    {
        foreach (var name in Placements(char.ConvertFromUtf32(codePoint)))
        {
            var error = CustomerRules.NormalizeName(name).Error;
            Assert.NotNull(error);
            Assert.Contains($"U+{codePoint:X4}", error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0x2028)] // LINE SEPARATOR
    [InlineData(0x2029)] // PARAGRAPH SEPARATOR
    [InlineData(0x0085)] // NEXT LINE (a control character)
    [InlineData(0x007F)] // DELETE
    [InlineData(0x0000)]
    public void NamesWithLineBreaksOrControlsInsideAreRejected(int codePoint) =>
        Assert.NotNull(CustomerRules.NormalizeName("Ada" + char.ConvertFromUtf32(codePoint) + "Lovelace").Error);

    [Theory]
    [InlineData("نرگس\u200Cسادات")] // Persian: ZWNJ keeps the letters apart
    [InlineData("क्\u200Dष")] // Devanagari: ZWJ asks for the half form
    [InlineData("Ada 👩\u200D💻")] // an emoji ZWJ sequence
    [InlineData("\u200Fשלום (Shalom) \u200E2nd")] // RLM and LRM around mixed-direction text
    [InlineData("\u061Cمحمد 3")] // ARABIC LETTER MARK
    [InlineData("ᠬᠠᠭ\u180Eᠠ")] // MONGOLIAN VOWEL SEPARATOR
    [InlineData("Ada 🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F")] // the flag of Scotland (a tag sequence)
    [InlineData("Zoë 🦄\uFE0F")] // a variation selector is a mark, not a format character
    [InlineData("José\u0301")] // a combining accent
    public void NamesKeepTheJoinersAndMarksRealTextNeeds(string name)
    {
        var (value, error) = CustomerRules.NormalizeName(name);
        Assert.Null(error);
        Assert.Equal(name, value);
    }

    [Theory]
    [InlineData("\u200D")]
    [InlineData("\u200E\u200F")]
    [InlineData("\u0301")]
    [InlineData("\u200C \u200C")]
    public void NamesWithNothingVisibleAreRejected(string name) =>
        Assert.Equal("The name must contain at least one visible character.", CustomerRules.NormalizeName(name).Error);

    [Theory]
    [InlineData("Ada 🏴\U000E0067\U000E0062")] // no CANCEL TAG
    [InlineData("Ada 🏴\U000E007F")] // no tag between flag and CANCEL TAG
    [InlineData("Ada \U000E0067\U000E0062\U000E007F")] // no flag
    [InlineData("🏴\U000E0067 Ada\U000E007F")] // something else inside
    public void BrokenEmojiTagSequencesAreRejected(string name) => Assert.NotNull(CustomerRules.NormalizeName(name).Error);

    [Fact]
    public void UnpairedSurrogatesAreRejectedInEveryField()
    {
        // Built in code: test data with a lone surrogate cannot travel through attributes.
        foreach (var lone in new[] { "\uD800", "\uDFFF", "\uDC00\uD800" })
        {
            foreach (var name in Placements(lone))
            {
                Assert.NotNull(CustomerRules.NormalizeName(name).Error);
            }

            Assert.NotNull(CustomerRules.NormalizeEmail("ada" + lone + "@example.com").Error);
            Assert.NotNull(CustomerRules.NormalizePhone("555" + lone).Error);
        }
    }

    [Theory]
    [InlineData(0x200B)]
    [InlineData(0x200C)] // even the joiners a name may hold: an address is a key, compared by machines
    [InlineData(0x200D)]
    [InlineData(0x200E)]
    [InlineData(0x202E)]
    [InlineData(0x2066)]
    [InlineData(0x2060)]
    [InlineData(0xFEFF)]
    [InlineData(0x00AD)]
    [InlineData(0xE0041)]
    public void EmailsRejectInvisibleAndBidiCharacters(int codePoint)
    {
        var c = char.ConvertFromUtf32(codePoint);
        foreach (var email in new[] { $"a{c}b@example.com", $"ab@exa{c}mple.com", $"{c}ab@example.com", $"ab@example.com{c}" })
        {
            Assert.False(CustomerRules.IsValidEmail(email));
            Assert.NotNull(CustomerRules.NormalizeEmail(email).Error);
        }
    }

    [Theory]
    [InlineData(0x2028)]
    [InlineData(0x0085)]
    [InlineData(0x00A0)]
    public void EmailsRejectLineBreaksAndSpacesInside(int codePoint)
    {
        var email = $"a{char.ConvertFromUtf32(codePoint)}b@example.com";
        Assert.False(CustomerRules.IsValidEmail(email));
        Assert.NotNull(CustomerRules.NormalizeEmail(email).Error);
    }

    [Fact]
    public void PhonesRejectInvisibleCharacters()
    {
        foreach (var c in new[] { "\u200B", "\u202E", "\uFEFF", "\u200D", "\u0000" })
        {
            Assert.NotNull(CustomerRules.NormalizePhone("+1 555" + c + "0100").Error);
        }
    }

    /// <summary><paramref name="text"/> at the start, inside and at the end of a name (Trim keeps format characters).</summary>
    private static string[] Placements(string text) => [text + "Ada", "Ada" + text + "Lovelace", "Ada" + text];
}
