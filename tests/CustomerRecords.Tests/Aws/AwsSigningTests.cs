using System.Net;
using CustomerRecords.Api.Aws;

namespace CustomerRecords.Tests.Aws;

/// <summary>SigV4 and RDS IAM tokens against published and SDK-generated vectors.</summary>
public sealed class AwsSigningTests
{
    private static readonly AwsCredentials SuiteCredentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    private static readonly Dictionary<string, string> SuiteHeaders = new()
    {
        ["Host"] = "example.amazonaws.com",
        ["X-Amz-Date"] = "20150830T123600Z",
    };

    [Fact]
    public void SignsTheTestSuiteGetVanillaRequest()
    {
        // AWS Signature Version 4 test suite, "get-vanilla".
        var authorization = AwsSigV4.SignHeaders("GET", "/", [], SuiteHeaders, AwsSigV4.EmptyPayloadHash, SuiteCredentials, "us-east-1", "service");

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            authorization);
    }

    [Fact]
    public void SortsQueryParametersAsTheTestSuiteRequires()
    {
        // Test suite "get-vanilla-query-order-key-case": Param2=value2&Param1=value1.
        var authorization = AwsSigV4.SignHeaders("GET", "/", [new("Param2", "value2"), new("Param1", "value1")], SuiteHeaders,
            AwsSigV4.EmptyPayloadHash, SuiteCredentials, "us-east-1", "service");

        Assert.EndsWith("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void PresignsTheS3DocumentationExample()
    {
        // Amazon S3 "Authenticating Requests: Using Query Parameters" example (GET /test.txt, 24 h).
        var query = AwsSigV4.PresignQuery("GET", "examplebucket.s3.amazonaws.com", "/test.txt", [],
            new AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "us-east-1", "s3", new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromDays(1), AwsSigV4.UnsignedPayload);

        Assert.Equal(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            query);
    }

    private const string Host = "customers.cluster-abc123.eu-west-1.rds.amazonaws.com";
    private static readonly DateTimeOffset SigningTime = new(2024, 3, 15, 12, 30, 45, TimeSpan.Zero);

    [Fact]
    public void RdsTokenMatchesTheAwsSdk()
    {
        // Expected value made by the AWS SDK for Python (botocore 1.43, rds.generate_db_auth_token) for the same inputs and a frozen clock.
        var token = RdsAuthToken.Generate(Host, 3306, "app_user", "eu-west-1", SuiteCredentials, SigningTime);

        Assert.Equal(
            $"{Host}:3306/?Action=connect&DBUser=app_user&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
            "&X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20240315T123045Z" +
            "&X-Amz-Expires=900&X-Amz-SignedHeaders=host" +
            "&X-Amz-Signature=87826e768636012abb2e6f1a9c64423b8fbaef6681d9ff3e6d2443dd65f2e11d",
            token);
    }

    [Fact]
    public void RdsTokenWithSessionTokenMatchesTheAwsSdk()
    {
        var credentials = SuiteCredentials with { SessionToken = "IQoJb3JpZ2luX2VjEXAMPLE/session+token==" };
        var token = RdsAuthToken.Generate(Host, 3306, "app_user", "eu-west-1", credentials, SigningTime);

        Assert.Equal(
            $"{Host}:3306/?Action=connect&DBUser=app_user&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
            "&X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20240315T123045Z" +
            "&X-Amz-Expires=900&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2Fsession%2Btoken%3D%3D&X-Amz-SignedHeaders=host" +
            "&X-Amz-Signature=c8dfb9692c64047cb9a83fb0eae0956b66fb31656018ad958a883ccd9b29375f",
            token);
    }

    [Fact]
    public void RdsTokenHasNoSchemeAndIsValidForFifteenMinutes()
    {
        var token = RdsAuthToken.Generate("db.local", 3307, "iam user", "us-east-1", SuiteCredentials, SigningTime);

        Assert.StartsWith("db.local:3307/?Action=connect&DBUser=iam%20user&", token, StringComparison.Ordinal);
        Assert.DoesNotContain("://", token, StringComparison.Ordinal);
        Assert.Contains("&X-Amz-Expires=900&", token, StringComparison.Ordinal);
    }

    [Fact]
    public void CredentialsNeverPrintTheirSecrets()
    {
        var text = (SuiteCredentials with { SessionToken = "session-secret" }).ToString();
        Assert.DoesNotContain("wJalrXUtnFEMI", text, StringComparison.Ordinal);
        Assert.DoesNotContain("session-secret", text, StringComparison.Ordinal);
        Assert.Contains("AKIDEXAMPLE", text, StringComparison.Ordinal);
    }
}

public sealed class AwsCredentialsProviderTests
{
    private static readonly DateTimeOffset Now = new(2024, 3, 15, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task EnvironmentCredentialsComeFirstAndImdsIsNotAsked()
    {
        var imds = new FakeImds(Now.AddHours(6));
        using var provider = new AwsCredentialsProvider(imds, Env(new()
        {
            ["AWS_ACCESS_KEY_ID"] = "AKIAENV",
            ["AWS_SECRET_ACCESS_KEY"] = "env-secret",
            ["AWS_SESSION_TOKEN"] = "env-session",
        }), new FixedClock(Now));

        var credentials = await provider.GetCredentialsAsync();

        Assert.Equal(new AwsCredentials("AKIAENV", "env-secret", "env-session"), credentials);
        Assert.Empty(imds.Requests);
    }

    [Fact]
    public async Task InstanceProfileCredentialsComeFromImdsV2AndAreCached()
    {
        var imds = new FakeImds(Now.AddHours(6));
        using var provider = new AwsCredentialsProvider(imds, Env(new()), new FixedClock(Now));

        var first = await provider.GetCredentialsAsync();
        var second = await provider.GetCredentialsAsync();

        Assert.Equal("ASIAIMDS", first.AccessKeyId);
        Assert.Equal("imds-secret", first.SecretAccessKey);
        Assert.Equal("imds-session", first.SessionToken);
        Assert.Equal(Now.AddHours(6), first.Expiration);
        Assert.Same(first, second);
        Assert.Equal(
            ["PUT /latest/api/token ttl=21600", "GET /latest/meta-data/iam/security-credentials/ token=imds-token", "GET /latest/meta-data/iam/security-credentials/app-role token=imds-token"],
            imds.Requests);
    }

    [Fact]
    public async Task CredentialsAreRefreshedShortlyBeforeTheyExpire()
    {
        var clock = new FixedClock(Now);
        var imds = new FakeImds(Now.AddMinutes(20));
        using var provider = new AwsCredentialsProvider(imds, Env(new()), clock);

        await provider.GetCredentialsAsync();
        clock.Now = Now.AddMinutes(16); // within the 5-minute margin
        await provider.GetCredentialsAsync();

        Assert.Equal(6, imds.Requests.Count);
    }

    [Fact]
    public async Task CachedCredentialsAreUsedWhileValidIfImdsFails()
    {
        var clock = new FixedClock(Now);
        var imds = new FakeImds(Now.AddMinutes(20));
        using var provider = new AwsCredentialsProvider(imds, Env(new()), clock);
        var first = await provider.GetCredentialsAsync();

        imds.Fail = true;
        clock.Now = Now.AddMinutes(17);
        Assert.Same(first, await provider.GetCredentialsAsync());

        clock.Now = Now.AddMinutes(21);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetCredentialsAsync().AsTask());
        Assert.DoesNotContain("imds-secret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisabledImdsIsNeverContacted()
    {
        var imds = new FakeImds(Now.AddHours(1));
        using var provider = new AwsCredentialsProvider(imds, Env(new() { ["AWS_EC2_METADATA_DISABLED"] = "true" }), new FixedClock(Now));

        await Assert.ThrowsAsync<InvalidOperationException>(() => provider.GetCredentialsAsync().AsTask());
        Assert.Empty(imds.Requests);
    }

    private static Func<string, string?> Env(Dictionary<string, string> values) => name => values.GetValueOrDefault(name);

    internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Answers like IMDSv2: PUT for a session token, then role name and credentials with that token.</summary>
    internal sealed class FakeImds(DateTimeOffset expiration) : HttpMessageHandler
    {
        public List<string> Requests { get; } = [];

        public bool Fail { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (Fail)
            {
                Requests.Add("failed " + path);
                throw new HttpRequestException("connection refused");
            }

            if (request.Method == HttpMethod.Put && path == "/latest/api/token")
            {
                Requests.Add($"PUT {path} ttl={request.Headers.GetValues("X-aws-ec2-metadata-token-ttl-seconds").Single()}");
                return Task.FromResult(Ok("imds-token"));
            }

            var token = request.Headers.TryGetValues("X-aws-ec2-metadata-token", out var values) ? values.Single() : "none";
            Requests.Add($"{request.Method} {path} token={token}");
            if (token != "imds-token")
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Unauthorized));
            }

            return Task.FromResult(path switch
            {
                "/latest/meta-data/iam/security-credentials/" => Ok("app-role\n"),
                "/latest/meta-data/iam/security-credentials/app-role" => Ok($$"""
                    {"Code":"Success","LastUpdated":"2024-03-15T11:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS",
                     "SecretAccessKey":"imds-secret","Token":"imds-session","Expiration":"{{expiration.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}"}
                    """),
                _ => new HttpResponseMessage(HttpStatusCode.NotFound),
            });
        }

        private static HttpResponseMessage Ok(string body) => new(HttpStatusCode.OK) { Content = new StringContent(body) };
    }
}
