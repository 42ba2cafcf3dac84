using System.Net.Http.Json;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Redaction;
using CustomerRecords.Tests.Auth;

namespace CustomerRecords.Tests.Redaction;

public sealed class LogRedactionTests
{
    [Fact]
    public async Task LogsOfARequestRunContainNoEmailPhoneKeyOrToken()
    {
        var writerKey = ApiKeyHash.GenerateKey();
        var readerKey = ApiKeyHash.GenerateKey();
        var token = TestTokens.Create("customers:read");
        var forged = TestTokens.Tampered();
        await using var host = await SecurityTestHost.StartAsync(SecurityTestHost.SecuredConfig(readerKey, writerKey));

        // A create with personal data in the body and the query string, logged carelessly and properly.
        using (var create = new HttpRequestMessage(HttpMethod.Post, $"/customers?email={Uri.EscapeDataString(SecurityTestHost.TestEmail)}&phone={Uri.EscapeDataString(SecurityTestHost.TestPhone)}"))
        {
            create.Headers.Add("X-Api-Key", writerKey);
            create.Content = JsonContent.Create(new { name = "Alice", email = SecurityTestHost.TestEmail, phone = SecurityTestHost.TestPhone });
            (await host.Client.SendAsync(create)).Dispose();
        }

        // Valid and forged bearer tokens, a wrong key, and a failure whose exception text holds an email and a password.
        foreach (var (header, value) in new[] { ("Authorization", "Bearer " + token), ("Authorization", "Bearer " + forged), ("X-Api-Key", readerKey + "x"), ("X-Api-Key", readerKey) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/boom");
            request.Headers.TryAddWithoutValidation(header, value);
            (await host.Client.SendAsync(request)).Dispose();
        }

        var logs = host.Logs.AllText;
        Assert.Contains("Request starting", logs, StringComparison.Ordinal); // the capture saw the framework's logs
        Assert.Contains("Creating customer", logs, StringComparison.Ordinal);
        Assert.Contains("[redacted-email]", logs, StringComparison.Ordinal); // the guard was at work
        foreach (var secret in new[]
                 {
                     SecurityTestHost.TestEmail, Uri.EscapeDataString(SecurityTestHost.TestEmail), SecurityTestHost.TestPhone,
                     SecurityTestHost.TestPhone.Replace(" ", "", StringComparison.Ordinal), "23456789",
                     writerKey, readerKey, token, forged, token.Split('.')[2], "hunter2-secret",
                 })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ClassifiedLogParametersAreRedactedByTheRedactor()
    {
        var writerKey = ApiKeyHash.GenerateKey();
        await using var host = await SecurityTestHost.StartAsync(SecurityTestHost.SecuredConfig(ApiKeyHash.GenerateKey(), writerKey));
        using var create = new HttpRequestMessage(HttpMethod.Post, "/create");
        create.Headers.Add("X-Api-Key", writerKey);
        create.Content = JsonContent.Create(new { email = SecurityTestHost.TestEmail, phone = SecurityTestHost.TestPhone });
        (await host.Client.SendAsync(create)).Dispose();

        var entry = Assert.Single(host.Logs.Entries, e => e.EventId.Id == 9900);
        Assert.StartsWith("Created customer [redacted] [redacted]", entry.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Contact alice.liddell@example.com now", "Contact [redacted-email] now")]
    [InlineData("GET /customers?email=alice%40example.com", "GET /customers?email=[redacted-email]")]
    [InlineData("phone +49 151 23456789 saved", "phone [redacted-phone] saved")]
    [InlineData("phone=+1 (555) 010-0199", "phone=[redacted-phone]")]
    [InlineData("phone=%2B4915123456789&x=1", "phone=[redacted-phone]&x=1")]
    [InlineData("Server=db;User ID=app;Password=hunter2;Database=c", "Server=db;User ID=app;Password=[redacted];Database=c")]
    [InlineData("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [redacted]")]
    [InlineData("key crk_0123456789abcdefghijABCDEFGHIJ_-xyz", "key [redacted-key]")]
    [InlineData("X-Amz-Signature=87826e768636012abb2e6f1a9c64423b", "X-Amz-Signature=[redacted]")]
    public void GuardScrubsSensitiveText(string input, string expected) => Assert.Equal(expected, LogScrubberAccess.Scrub(input));

    [Theory]
    [InlineData("Request finished HTTP/1.1 GET http://localhost/customers/12345678 - 200 - application/json 12.3456ms")]
    [InlineData("Now listening on: http://127.0.0.1:5000")]
    [InlineData("Executing endpoint 'HTTP: GET /customers/{id}' for 3f2504e0-4f89-11d3-9a0c-0305e82c3301 at 2024-03-15T12:30:45.1234567Z")]
    [InlineData("Pool 12 clearing 2024-03-15 12:30:45, version 10.11.19")]
    public void GuardLeavesOrdinaryTextAlone(string input) => Assert.Equal(input, LogScrubberAccess.Scrub(input));
}

/// <summary>Reaches the internal scrubber through InternalsVisibleTo.</summary>
internal static class LogScrubberAccess
{
    public static string Scrub(string text) => LogScrubber.Scrub(text);
}
