using System.Net;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CustomerRecords.Tests.Docs;

/// <summary>
/// <c>Database:ReadOnly</c>'s 503 <c>read-only-region</c> is in the document: every write operation (POST, PUT, PATCH,
/// DELETE, the original routes' writes among them) names it in its 503, and the real answers of a read-only region
/// conform to the document (<see cref="OpenApiConformanceHandler"/>).
/// </summary>
public sealed class ReadOnlyRegionDocsTests(ITestOutputHelper output)
{
    private const string ReadOnlyType = "urn:customer-records:problem:read-only-region";
    private static readonly string[] WriteMethods = ["post", "put", "patch", "delete"];

    [Fact]
    public async Task EveryWriteOperationDocumentsTheReadOnlyRegion503()
    {
        await using var factory = new CustomerApiFactory(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()));
        using var client = factory.CreateClient();
        var document = JsonNode.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        var checkedOperations = new List<string>();
        var missing = new List<string>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject().Where(o => WriteMethods.Contains(o.Key)))
            {
                var name = $"{method.ToUpperInvariant()} {path}";
                checkedOperations.Add(name);
                var unavailable = operation!["responses"]?["503"];
                if (unavailable is null)
                {
                    missing.Add($"{name}: no 503");
                    continue;
                }

                if ((string?)unavailable["description"] is not { } description || !description.Contains(ReadOnlyType, StringComparison.Ordinal))
                {
                    missing.Add($"{name}: the 503's description does not name {ReadOnlyType}");
                }

                if (unavailable["headers"]?["Retry-After"] is null)
                {
                    missing.Add($"{name}: the 503 has no Retry-After");
                }

                // A problem 503 lists the type among those its `type` may take; the original routes answer {"error"}.
                if (unavailable["content"]?["application/problem+json"]?["schema"] is { } schema
                    && schema["properties"]?["type"]?["enum"]?.AsArray().Select(v => (string?)v).Contains(ReadOnlyType) != true)
                {
                    missing.Add($"{name}: the 503 problem's type enum has no {ReadOnlyType}");
                }
            }
        }

        output.WriteLine($"{checkedOperations.Count} write operations: {string.Join(", ", checkedOperations)}");
        Assert.Empty(missing);
        Assert.Contains("POST /customers", checkedOperations);
        Assert.Contains("PATCH /customers/{id}", checkedOperations);
        Assert.Contains("POST /create", checkedOperations);
        Assert.Contains("PUT /update/{id}", checkedOperations);
        Assert.Contains("DELETE /delete/{id}", checkedOperations);
    }

    [Fact]
    public async Task AReadOnlyRegionsWriteAnswersConformToTheDocument()
    {
        const string suite = nameof(AReadOnlyRegionsWriteAnswersConformToTheDocument);
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        var id = await Data.ReadOnlyRegionTests.WithOneCustomerAsync(settings);
        var readOnly = new Dictionary<string, string?>(settings) { ["Database:ReadOnly"] = "true", [OpenApiTrafficLog.SettingKey] = suite };
        await using var region = new CustomerApiFactory(readOnly);
        using var client = region.CreateClient();
        var writes = Data.ReadOnlyRegionTests.Writes(id);
        foreach (var (method, path, content, _) in writes)
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        var log = OpenApiTrafficLog.For(suite);
        var violations = log.TakeViolations();
        output.WriteLine($"{log.Checked} read-only answers checked, {violations.Count} violations");
        Assert.True(violations.Count == 0, $"{violations.Count} exchanges depart from /openapi/v1.json:\n" + string.Join("\n", violations));
        Assert.Equal(writes.Length, log.Checked);
    }
}
