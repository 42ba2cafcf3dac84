using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerRecords.Tests.Infrastructure;

namespace CustomerRecords.Tests.Customers;

/// <summary>
/// The HTTP contract of <c>/customers</c> and the original routes. Each engine runs every test here
/// through a subclass; each test gets its own, freshly migrated database.
/// </summary>
public abstract class CustomersApiContract : ApiContractSuite
{
    protected async Task<JsonObject> CreateAsync(string? name = null, string? email = null, string? phone = null)
    {
        var response = await Client.PostAsync("/customers", Json.Body(new { name = name ?? "Test Customer", email = email ?? Json.UniqueEmail(), phone }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string typeSlug)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.ReadObjectAsync();
        Assert.Equal("urn:customer-records:problem:" + typeSlug, (string?)problem["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]));
        Assert.Equal((int)status, (int?)problem["status"]);
    }

    [Fact]
    public async Task NewDatabaseHasTheThreeSampleCustomers()
    {
        var page = await (await Client.GetAsync("/customers?sort=id")).ReadObjectAsync();
        var emails = page["items"]!.AsArray().Select(i => (string)i!["email"]!).ToArray();
        Assert.Equal(["john.doe@example.com", "jane.smith@example.com", "bob.johnson@example.com"], emails);
        Assert.Equal("+1-555-0456", (string?)page["items"]![1]!["phone"]);
    }

    [Fact]
    public async Task CreateReturns201WithLocationETagAndTheStoredCustomer()
    {
        var email = Json.UniqueEmail();
        var response = await Client.PostAsync("/customers", Json.Body(new { name = "  Ada Lovelace ", email, phone = "+44 (20) 7946-0958" }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadObjectAsync();
        var id = (int)body["id"]!;
        Assert.Equal($"/customers/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", response.Headers.ETag?.Tag);
        Assert.Equal("Ada Lovelace", (string?)body["name"]);
        Assert.Equal(email, (string?)body["email"]);
        Assert.Equal("+44 (20) 7946-0958", (string?)body["phone"]);
        var created = (string)body["created_at"]!;
        Assert.EndsWith("Z", created, StringComparison.Ordinal);
        Assert.Equal(created, (string?)body["updated_at"]);

        var read = await (await Client.GetAsync($"/customers/{id}")).ReadObjectAsync();
        Assert.Equal(body.ToJsonString(), read.ToJsonString());
    }

    [Fact]
    public async Task GetReturnsETagAndMatchingIfNoneMatchReturns304()
    {
        var id = (int)(await CreateAsync())["id"]!;
        var first = await Client.GetAsync($"/customers/{id}");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!;

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/customers/{id}");
        conditional.Headers.IfNoneMatch.Add(etag);
        var second = await Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(etag, second.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, $"/customers/{id}");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"999\""));
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(stale)).StatusCode);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task UnknownIdReturns404Problem(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/customers/987654");
        if (method is "PUT" or "PATCH")
        {
            request.Content = Json.Body(new { name = "Nobody", email = Json.UniqueEmail() });
        }

        await AssertProblemAsync(await Client.SendAsync(request), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task PutReplacesEveryFieldAndBumpsTheVersion()
    {
        var created = await CreateAsync(phone: "123");
        var id = (int)created["id"]!;
        var email = Json.UniqueEmail();

        var response = await Client.PutAsync($"/customers/{id}", Json.Body(new { name = "Replaced", email }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        var body = await response.ReadObjectAsync();
        Assert.Equal("Replaced", (string?)body["name"]);
        Assert.Equal(email, (string?)body["email"]);
        Assert.Null((string?)body["phone"]);
        Assert.Equal((string?)created["created_at"], (string?)body["created_at"]);
        Assert.Equal(2, (int?)body["version"]);
    }

    [Theory]
    [InlineData("application/merge-patch+json")]
    [InlineData("application/json")]
    public async Task PatchChangesOnlyTheFieldsSent(string mediaType)
    {
        var created = await CreateAsync(name: "Before", phone: "555");
        var id = (int)created["id"]!;

        var renamed = await (await Client.PatchAsync($"/customers/{id}", Json.Body("{\"name\":\"After\"}", mediaType))).ReadObjectAsync();
        Assert.Equal("After", (string?)renamed["name"]);
        Assert.Equal((string?)created["email"], (string?)renamed["email"]);
        Assert.Equal("555", (string?)renamed["phone"]);

        var cleared = await (await Client.PatchAsync($"/customers/{id}", Json.Body("{\"phone\":null}", mediaType))).ReadObjectAsync();
        Assert.Null((string?)cleared["phone"]);
        Assert.Equal("After", (string?)cleared["name"]);
        Assert.Equal(3, (int?)cleared["version"]);
    }

    [Fact]
    public async Task PatchWithNullNameIsRejected()
    {
        var id = (int)(await CreateAsync())["id"]!;
        var response = await Client.PatchAsync($"/customers/{id}", Json.Body("{\"name\":null}", "application/merge-patch+json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "validation");
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task StaleIfMatchReturns412AndChangesNothing(string method)
    {
        var created = await CreateAsync(name: "Original");
        var id = (int)created["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await Client.PatchAsync($"/customers/{id}", Json.Body(new { name = "Second" }))).StatusCode);

        using var request = new HttpRequestMessage(new HttpMethod(method), $"/customers/{id}");
        request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
        if (method != "DELETE")
        {
            request.Content = Json.Body(new { name = "Lost update", email = Json.UniqueEmail() });
        }

        await AssertProblemAsync(await Client.SendAsync(request), HttpStatusCode.PreconditionFailed, "precondition-failed");
        var current = await (await Client.GetAsync($"/customers/{id}")).ReadObjectAsync();
        Assert.Equal("Second", (string?)current["name"]);
        Assert.Equal(2, (int?)current["version"]);
    }

    [Fact]
    public async Task CurrentIfMatchIsAcceptedAndReturnsTheNewETag()
    {
        var id = (int)(await CreateAsync())["id"]!;
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/customers/{id}") { Content = Json.Body(new { name = "Checked" }) };
        request.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));

        var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task DeleteReturns204AndTheCustomerIsGone()
    {
        var id = (int)(await CreateAsync())["id"]!;
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/customers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/customers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync($"/customers/{id}")).StatusCode);
    }

    [Fact]
    public async Task DuplicateEmailReturns409RegardlessOfLetterCase()
    {
        var email = Json.UniqueEmail("Case.Sensitive");
        await CreateAsync(email: email);

        await AssertProblemAsync(
            await Client.PostAsync("/customers", Json.Body(new { name = "Twin", email = email.ToUpperInvariant() })),
            HttpStatusCode.Conflict,
            "duplicate-email");

        var other = (int)(await CreateAsync())["id"]!;
        await AssertProblemAsync(
            await Client.PatchAsync($"/customers/{other}", Json.Body(new { email = email.ToLowerInvariant() })),
            HttpStatusCode.Conflict,
            "duplicate-email");
    }

    [Fact]
    public async Task EmailFilterMatchesWithoutRegardToCase()
    {
        var email = Json.UniqueEmail("Mixed.Case");
        var id = (int)(await CreateAsync(email: email))["id"]!;

        var page = await (await Client.GetAsync($"/customers?email={Uri.EscapeDataString(email.ToUpperInvariant())}")).ReadObjectAsync();

        Assert.Equal([id], page["items"]!.AsArray().Select(i => (int)i!["id"]!));
    }

    [Theory]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("id")]
    [InlineData("-id")]
    [InlineData("created_at")]
    [InlineData("-created_at")]
    public async Task CursorPagesWalkEveryMatchExactlyOnceInOrder(string sort)
    {
        var tag = "zq" + Guid.NewGuid().ToString("N")[..8];
        string[] names = ["Delta", "alpha", "Charlie", "bravo", "Alpha", "echo", "delta"];
        var expected = new List<(int Id, string Name, string Created)>();
        foreach (var name in names)
        {
            var created = await CreateAsync(name: $"{tag} {name}");
            expected.Add(((int)created["id"]!, (string)created["name"]!, (string)created["created_at"]!));
        }

        IEnumerable<(int Id, string Name, string Created)> ordered = sort.TrimStart('-') switch
        {
            "name" => expected.OrderBy(e => e.Name.ToLowerInvariant(), StringComparer.Ordinal).ThenBy(e => e.Id),
            "created_at" => expected.OrderBy(e => DateTime.Parse(e.Created, System.Globalization.CultureInfo.InvariantCulture)).ThenBy(e => e.Id),
            _ => expected.OrderBy(e => e.Id),
        };
        var expectedIds = (sort.StartsWith('-') ? ordered.Reverse() : ordered).Select(e => e.Id).ToList();

        var seen = new List<int>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"/customers?q={tag}&limit=3&sort={sort}" + (cursor is null ? string.Empty : $"&after={cursor}");
            var response = await Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.ReadObjectAsync();
            seen.AddRange(page["items"]!.AsArray().Select(i => (int)i!["id"]!));
            cursor = (string?)page["next"];
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(expectedIds, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task SearchMatchesNameOrEmailPrefixWithoutRegardToCase()
    {
        var tag = "pf" + Guid.NewGuid().ToString("N")[..8];
        var byName = (int)(await CreateAsync(name: $"{tag.ToUpperInvariant()} Smith"))["id"]!;
        var byEmail = (int)(await CreateAsync(name: "Other", email: $"{tag}.x@example.com"))["id"]!;
        await CreateAsync(name: $"Not {tag}");

        var page = await (await Client.GetAsync($"/customers?q={tag}")).ReadObjectAsync();

        Assert.Equal([byName, byEmail], page["items"]!.AsArray().Select(i => (int)i!["id"]!).Order());
    }

    [Fact]
    public async Task ListDefaultsToFiftyAndReportsNoNextOnTheLastPage()
    {
        var page = await (await Client.GetAsync("/customers")).ReadObjectAsync();
        Assert.Equal(3, page["items"]!.AsArray().Count);
        Assert.Null((string?)page["next"]);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=501")]
    [InlineData("limit=abc")]
    [InlineData("limit=-1")]
    [InlineData("sort=email")]
    [InlineData("sort=")]
    [InlineData("after=not-a-cursor")]
    [InlineData("after=AQ")]
    [InlineData("email=not-an-email")]
    public async Task BadListParametersReturn400(string query)
    {
        await AssertProblemAsync(await Client.GetAsync("/customers?" + query), HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task CursorFromAnotherSortReturns400()
    {
        var page = await (await Client.GetAsync("/customers?limit=1&sort=name")).ReadObjectAsync();
        var cursor = (string)page["next"]!;
        await AssertProblemAsync(await Client.GetAsync($"/customers?after={cursor}&sort=id"), HttpStatusCode.BadRequest, "validation");
    }

    [Theory]
    [InlineData("{\"name\":\"A\",", "$")]
    [InlineData("[1,2]", "$")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\"} {}", "$")]
    [InlineData("{\"name\":\"A\",\"name\":\"B\",\"email\":\"a@example.com\"}", "name")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"nickname\":\"x\"}", "nickname")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"id\":5}", "id")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"created_at\":\"2020-01-01\"}", "created_at")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"updated_at\":\"2020-01-01\"}", "updated_at")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"version\":3}", "version")]
    [InlineData("{\"name\":5,\"email\":\"a@example.com\"}", "name")]
    [InlineData("{\"email\":\"a@example.com\"}", "name")]
    [InlineData("{\"name\":\"   \",\"email\":\"a@example.com\"}", "name")]
    [InlineData("{\"name\":\"Bell\\u0007\",\"email\":\"a@example.com\"}", "name")]
    [InlineData("{\"name\":\"A\"}", "email")]
    [InlineData("{\"name\":\"A\",\"email\":\"not an email\"}", "email")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@b\"}", "email")]
    [InlineData("{\"name\":\"A\",\"email\":\"Someone <a@example.com>\"}", "email")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"phone\":\"call me\"}", "phone")]
    [InlineData("{\"name\":\"A\",\"email\":\"a@example.com\",\"phone\":\"123456789012345678901\"}", "phone")]
    public async Task InvalidBodyReturns400NamingTheField(string json, string field)
    {
        var response = await Client.PostAsync("/customers", Json.Body(json));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "validation");
        var problem = await response.ReadObjectAsync();
        Assert.NotNull(problem["errors"]![field]);
        Assert.DoesNotContain("Exception", problem.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverlongNameAndEmailAreRejected()
    {
        var longName = await Client.PostAsync("/customers", Json.Body(new { name = new string('n', 256), email = Json.UniqueEmail() }));
        await AssertProblemAsync(longName, HttpStatusCode.BadRequest, "validation");
        var longEmail = await Client.PostAsync("/customers", Json.Body(new { name = "A", email = new string('e', 250) + "@example.com" }));
        await AssertProblemAsync(longEmail, HttpStatusCode.BadRequest, "validation");
        Assert.Equal(HttpStatusCode.Created, (await Client.PostAsync("/customers", Json.Body(new { name = new string('n', 255), email = Json.UniqueEmail() }))).StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOver64KiBReturns413(bool chunked)
    {
        var json = "{\"name\":\"" + new string('x', 70_000) + "\",\"email\":\"big@example.com\"}";
        HttpContent content = chunked
            ? new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            : Json.Body(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (chunked)
        {
            content.Headers.ContentLength = null;
        }

        await AssertProblemAsync(await Client.PostAsync("/customers", content), HttpStatusCode.RequestEntityTooLarge, "body-too-large");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task WrongContentTypeReturns415(string mediaType)
    {
        var response = await Client.PostAsync("/customers", Json.Body("{\"name\":\"A\",\"email\":\"a@example.com\"}", mediaType));
        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported-media-type");
    }

    [Fact]
    public async Task UnicodeIsStoredAndReturnedExactly()
    {
        const string name = "Zoë Ñúñez 🦄 שלום مرحبا 日本語";
        var email = $"zoë.{Guid.NewGuid():N}@exämple.com";
        var created = await CreateAsync(name: name, email: email);

        var read = await (await Client.GetAsync($"/customers/{(int)created["id"]!}")).ReadObjectAsync();

        Assert.Equal(name, (string?)read["name"]);
        Assert.Equal(email, (string?)read["email"]);
    }

    [Theory]
    [InlineData("Robert'); DROP TABLE customers;--")]
    [InlineData("\" OR 1=1 --")]
    [InlineData("x' UNION SELECT version(), 1, 2 --")]
    public async Task SqlInjectionStringsAreStoredVerbatim(string name)
    {
        var created = await CreateAsync(name: name);
        var read = await (await Client.GetAsync($"/customers/{(int)created["id"]!}")).ReadObjectAsync();
        Assert.Equal(name, (string?)read["name"]);

        var search = await (await Client.GetAsync($"/customers?q={Uri.EscapeDataString(name)}")).ReadObjectAsync();
        Assert.Contains(search["items"]!.AsArray(), i => (int)i!["id"]! == (int)created["id"]!);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/customers/1")).StatusCode);
    }

    [Fact]
    public async Task FiftyConcurrentCreatesWithOneEmailMakeExactlyOneRow()
    {
        var email = Json.UniqueEmail("race");
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            Client.PostAsync("/customers", Json.Body(new { name = $"Racer {i}", email = i % 2 == 0 ? email : email.ToUpperInvariant() }))));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(49, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var page = await (await Client.GetAsync($"/customers?email={Uri.EscapeDataString(email)}")).ReadObjectAsync();
        Assert.Single(page["items"]!.AsArray());
    }

    [Fact]
    public async Task DataSurvivesARestartOfTheService()
    {
        var created = await CreateAsync(name: "Persistent");
        await RestartAsync();
        var read = await (await Client.GetAsync($"/customers/{(int)created["id"]!}")).ReadObjectAsync();
        Assert.Equal("Persistent", (string?)read["name"]);

        // A restart applies no migration twice and seeds nothing again.
        var page = await (await Client.GetAsync("/customers?limit=500")).ReadObjectAsync();
        Assert.Equal(4, page["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task OriginalRoutesWorkAsTheOriginalAppDocuments()
    {
        var email = Json.UniqueEmail("alice");
        var create = await Client.PostAsync("/create", Json.Body($"{{\"name\": \"Alice Johnson\", \"email\": \"{email}\"}}"));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var created = await create.ReadObjectAsync();
        Assert.Equal("Customer created", (string?)created["message"]);
        var id = (int)created["id"]!;

        var read = await (await Client.GetAsync($"/read/{id}")).ReadObjectAsync();
        var row = read["customer"]!.AsArray();
        Assert.Equal(6, row.Count);
        Assert.Equal(id, (int)row[0]!);
        Assert.Equal("Alice Johnson", (string?)row[1]);
        Assert.Equal(email, (string?)row[2]);
        Assert.Null(row[3]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", (string)row[4]!);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", (string)row[5]!);

        var newEmail = Json.UniqueEmail("alice.johnson");
        var update = await Client.PutAsync($"/update/{id}", Json.Body($"{{\"email\": \"{newEmail}\"}}"));
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Equal("{\"message\":\"Customer updated\"}", await update.Content.ReadAsStringAsync());
        var updated = await (await Client.GetAsync($"/customers/{id}")).ReadObjectAsync();
        Assert.Equal(newEmail, (string?)updated["email"]);
        Assert.Equal("Alice Johnson", (string?)updated["name"]);

        var delete = await Client.DeleteAsync($"/delete/{id}");
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal("{\"message\":\"Customer deleted\"}", await delete.Content.ReadAsStringAsync());

        var gone = await Client.GetAsync($"/read/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("{\"error\":\"Not found\"}", await gone.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task JsonIsWrittenWithoutNeedlessEscapes()
    {
        var row = await (await Client.GetAsync("/read/1")).Content.ReadAsStringAsync();
        Assert.Contains("\"+1-555-0123\"", row, StringComparison.Ordinal);
        var created = await Client.PostAsync("/customers", Json.Body(new { name = "Zoë", email = Json.UniqueEmail() }));
        Assert.Contains("\"Zoë\"", await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PUT", "/update/987654", "{\"email\":\"x@example.com\"}")]
    [InlineData("DELETE", "/delete/987654", null)]
    [InlineData("GET", "/read/987654", null)]
    public async Task OriginalRoutesAnswerUnknownIdsWith404Error(string method, string path, string? json)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = json is null ? null : Json.Body(json) };
        var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Not found", (string?)(await response.ReadObjectAsync())["error"]);
    }

    [Theory]
    [InlineData("/create", "POST", "{\"name\":\"A\"}", HttpStatusCode.BadRequest)]
    [InlineData("/create", "POST", "{\"name\":\"A\",\"email\":\"bad\"}", HttpStatusCode.BadRequest)]
    [InlineData("/create", "POST", "not json", HttpStatusCode.BadRequest)]
    [InlineData("/update/1", "PUT", "{}", HttpStatusCode.BadRequest)]
    [InlineData("/update/1", "PUT", "{\"email\":\"nope\"}", HttpStatusCode.BadRequest)]
    [InlineData("/update/1", "PUT", "{\"email\":\"jane.smith@EXAMPLE.com\"}", HttpStatusCode.Conflict)]
    [InlineData("/create", "POST", "{\"name\":\"A\",\"email\":\"JOHN.doe@example.com\"}", HttpStatusCode.Conflict)]
    public async Task OriginalRoutesAnswerBadInputWithAnErrorMessage(string path, string method, string json, HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Json.Body(json) };
        var response = await Client.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        var error = (string?)(await response.ReadObjectAsync())["error"];
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public async Task OriginalCreateWithWrongContentTypeReturns415()
    {
        var response = await Client.PostAsync("/create", Json.Body("{\"name\":\"A\",\"email\":\"a@example.com\"}", "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.NotNull((await response.ReadObjectAsync())["error"]);
    }

    [Fact]
    public async Task OriginalCreateIgnoresUnknownFieldsLikeTheOriginal()
    {
        var response = await Client.PostAsync("/create", Json.Body(new { name = "Extra", email = Json.UniqueEmail(), source = "legacy-client" }));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<HttpResponseMessage> PostWithKeyAsync(string path, string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json.Body(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await Client.SendAsync(request);
    }

    [Fact]
    public async Task SameIdempotencyKeyAndBodyReplayTheFirstAnswerWithoutASecondRow()
    {
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Once Only", email = Json.UniqueEmail("once") };

        var first = await PostWithKeyAsync("/customers", key, body);
        var second = await PostWithKeyAsync("/customers", key, body);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var page = await (await Client.GetAsync($"/customers?email={Uri.EscapeDataString(body.email)}")).ReadObjectAsync();
        Assert.Single(page["items"]!.AsArray());
    }

    [Fact]
    public async Task SameIdempotencyKeyWithADifferentBodyReturns422()
    {
        var key = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.Created, (await PostWithKeyAsync("/customers", key, new { name = "A", email = Json.UniqueEmail() })).StatusCode);
        await AssertProblemAsync(
            await PostWithKeyAsync("/customers", key, new { name = "B", email = Json.UniqueEmail() }),
            HttpStatusCode.UnprocessableEntity,
            "idempotency-key-reused");
    }

    [Fact]
    public async Task ADuplicateEmailAnswerIsReplayedToo()
    {
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Dup", email = "john.doe@example.com" };
        await AssertProblemAsync(await PostWithKeyAsync("/customers", key, body), HttpStatusCode.Conflict, "duplicate-email");
        var again = await PostWithKeyAsync("/customers", key, body);
        await AssertProblemAsync(again, HttpStatusCode.Conflict, "duplicate-email");
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task ConcurrentRequestsWithOneKeyCreateOneRow()
    {
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Concurrent", email = Json.UniqueEmail("concurrent") };

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => PostWithKeyAsync("/customers", key, body)));

        // Each is the answer (201, first or replayed) or "still in progress" (409); never a second customer.
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created && !r.Headers.Contains("Idempotent-Replayed")));
        var page = await (await Client.GetAsync($"/customers?email={Uri.EscapeDataString(body.email)}")).ReadObjectAsync();
        Assert.Single(page["items"]!.AsArray());
        var ids = new HashSet<string?>();
        foreach (var created in responses.Where(r => r.StatusCode == HttpStatusCode.Created))
        {
            ids.Add((string?)(await created.ReadObjectAsync())["email"]);
        }

        Assert.Single(ids);
    }

    [Fact]
    public async Task OriginalCreateHonoursIdempotencyKeysAndRepliesInItsOwnShape()
    {
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Original Once", email = Json.UniqueEmail("original") };
        var first = await (await PostWithKeyAsync("/create", key, body)).ReadObjectAsync();
        var second = await PostWithKeyAsync("/create", key, body);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal((int)first["id"]!, (int)(await second.ReadObjectAsync())["id"]!);

        // The same key on the other create route is a different key.
        Assert.Equal(HttpStatusCode.Conflict, (await PostWithKeyAsync("/customers", key, body)).StatusCode);
        var reused = await PostWithKeyAsync("/create", key, new { name = "Other", email = Json.UniqueEmail() });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.NotNull((await reused.ReadObjectAsync())["error"]);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("ключ")]
    public async Task MalformedIdempotencyKeyReturns400(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/customers") { Content = Json.Body(new { name = "A", email = Json.UniqueEmail() }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task OverlongIdempotencyKeyReturns400()
    {
        var response = await PostWithKeyAsync("/customers", new string('k', 256), new { name = "A", email = Json.UniqueEmail() });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>The README's "Examples" block, request by request, as curl sends it (so the OpenAPI check sees each of them too).</summary>
    [Fact]
    public async Task TheReadmeExamplesAnswerAsTheReadmeSays()
    {
        // Enough customers for a second page whatever the engine's sample data.
        await CreateAsync(name: "Readme Filler One");
        await CreateAsync(name: "Readme Filler Two");
        var email = Json.UniqueEmail("alice");

        var create = await Client.PostAsync("/customers", Json.Body($"{{\"name\": \"Alice Johnson\", \"email\": \"{email}\", \"phone\": \"+1-555-0100\"}}"));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal("\"1\"", create.Headers.ETag?.Tag);
        var id = (int)(await create.ReadObjectAsync())["id"]!;
        Assert.Equal($"/customers/{id}", create.Headers.Location?.OriginalString);

        var read = await Client.GetAsync($"/customers/{id}");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.NotNull(read.Headers.ETag);

        var first = await (await Client.GetAsync("/customers?limit=2&sort=name")).ReadObjectAsync();
        Assert.Equal(2, first["items"]!.AsArray().Count);
        var next = (string)first["next"]!;
        var second = await Client.GetAsync($"/customers?limit=2&sort=name&after={next}");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        var search = await (await Client.GetAsync("/customers?q=ali")).ReadObjectAsync();
        Assert.Contains(search["items"]!.AsArray(), i => (int)i!["id"]! == id);
        var byEmail = await (await Client.GetAsync($"/customers?email={email.ToUpperInvariant()}")).ReadObjectAsync();
        Assert.Equal([id], byEmail["items"]!.AsArray().Select(i => (int)i!["id"]!));

        var replace = await Client.PutAsync($"/customers/{id}", Json.Body($"{{\"name\": \"Alice Johnson\", \"email\": \"{email}\"}}"));
        Assert.Equal(HttpStatusCode.OK, replace.StatusCode);
        Assert.Equal("\"2\"", replace.Headers.ETag?.Tag);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/customers/{id}") { Content = Json.Body("{\"phone\": null}", "application/merge-patch+json") };
        patch.Headers.TryAddWithoutValidation("If-Match", "\"2\"");
        var patched = await Client.SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Null((string?)(await patched.ReadObjectAsync())["phone"]);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/customers/{id}")).StatusCode);

        // Bulk: the live customers as CSV, then the same file back in, twice: every row is skipped both times.
        using var export = new HttpRequestMessage(HttpMethod.Get, "/customers/export");
        export.Headers.Accept.ParseAdd("text/csv");
        var exported = await Client.SendAsync(export);
        Assert.Equal(HttpStatusCode.OK, exported.StatusCode);
        var csv = await exported.Content.ReadAsByteArrayAsync();
        for (var run = 0; run < 2; run++)
        {
            using var body = new ByteArrayContent(csv);
            body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
            var imported = await Client.PostAsync("/customers/import?on_conflict=skip", body);
            Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
            var summary = await imported.ReadObjectAsync();
            Assert.Equal(0, (long)summary["created"]!);
            Assert.True((long)summary["read"]! > 0);
            Assert.Equal((long)summary["read"]!, (long)summary["skipped"]!);
        }

        var original = await Client.PostAsync("/create", Json.Body($"{{\"name\": \"Alice Johnson\", \"email\": \"first.{email}\"}}"));
        Assert.Equal(HttpStatusCode.Created, original.StatusCode);
        var oid = (int)(await original.ReadObjectAsync())["id"]!;
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync($"/read/{oid}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.PutAsync($"/update/{oid}", Json.Body($"{{\"email\": \"second.{email}\"}}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.DeleteAsync($"/delete/{oid}")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task HealthEndpointsReportLiveAndReady()
    {
        var live = await Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await (await Client.GetAsync("/health/ready")).ReadObjectAsync();
        Assert.Equal("Healthy", (string?)ready["status"]);
        Assert.Equal("Healthy", (string?)ready["checks"]!["database"]!["status"]);
    }
}
