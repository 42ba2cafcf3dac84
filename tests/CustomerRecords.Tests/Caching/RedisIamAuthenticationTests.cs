using CustomerRecords.Api.Aws;
using CustomerRecords.Api.Caching;

namespace CustomerRecords.Tests.Caching;

/// <summary>ElastiCache IAM tokens against the AWS SDK's signer.</summary>
public sealed class RedisIamAuthenticationTests
{
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly DateTimeOffset SigningTime = new(2024, 3, 15, 12, 30, 45, TimeSpan.Zero);

    // Expected values made by the AWS SDK for Python (botocore 1.43) as AWS's ElastiCache IAM guide does: SigV4QueryAuth
    // for "elasticache", 900 s, on GET https://customers-cache/?Action=connect&User=app-user, clock frozen, "https://" stripped.
    [Fact]
    public void TokenMatchesTheAwsSdk()
    {
        var token = ElastiCacheAuthToken.Generate("customers-cache", "app-user", "eu-west-1", Credentials, SigningTime);

        Assert.Equal(
            "customers-cache/?Action=connect&User=app-user&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
            "&X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Feu-west-1%2Felasticache%2Faws4_request&X-Amz-Date=20240315T123045Z" +
            "&X-Amz-Expires=900&X-Amz-SignedHeaders=host" +
            "&X-Amz-Signature=436de986fd7ade7069c2781eaa1807195240d138887bc35c599e56219770e988",
            token);
    }

    [Fact]
    public void TokenWithSessionTokenMatchesTheAwsSdk()
    {
        var token = ElastiCacheAuthToken.Generate("customers-cache", "app-user", "eu-west-1", Credentials with { SessionToken = "IQoJb3JpZ2luX2VjEXAMPLE/session+token==" }, SigningTime);

        Assert.Equal(
            "customers-cache/?Action=connect&User=app-user&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
            "&X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Feu-west-1%2Felasticache%2Faws4_request&X-Amz-Date=20240315T123045Z" +
            "&X-Amz-Expires=900&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2Fsession%2Btoken%3D%3D&X-Amz-SignedHeaders=host" +
            "&X-Amz-Signature=54ce7bb8a5570c3993f4db14bd745a9ab0c5c5785579ec53331c92a1bbb42269",
            token);
    }

    [Fact]
    public void TokenHasNoSchemeAndIsValidForFifteenMinutes()
    {
        var token = ElastiCacheAuthToken.Generate("cache-1", "user 1", "us-east-1", Credentials, SigningTime);

        Assert.StartsWith("cache-1/?Action=connect&User=user%201&", token, StringComparison.Ordinal);
        Assert.DoesNotContain("://", token, StringComparison.Ordinal);
        Assert.Contains("&X-Amz-Expires=900&", token, StringComparison.Ordinal);
    }
}
