using System.Net;
using System.Net.Http.Json;
using CustomerRecords.Api.Auth;
using CustomerRecords.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CustomerRecords.Tests.Auth;

/// <summary>
/// Open mode (no keys, no token issuer) runs neither the authentication nor the authorization middleware: every
/// policy grants everything there, so they would only cost time. Each middleware asks its provider on every
/// request (the default scheme; the endpoint's policy), so recording providers tell whether they ran.
/// </summary>
public sealed class OpenModePipelineTests
{
    [Fact]
    public async Task OpenModeServesEveryPolicyWithoutRunningAuthenticationOrAuthorization()
    {
        var recorder = new Recorder();
        await using var factory = Factory(CustomerApiFactory.SqliteSettings(TempDirectory.ForRun()), recorder);
        using var client = factory.CreateClient();

        var created = await client.PostAsJsonAsync("/customers", new { name = "Open Mode", email = "open.mode@example.com" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(created.Headers.Location)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/customers?limit=5")).StatusCode);
        using var withKey = new HttpRequestMessage(HttpMethod.Get, created.Headers.Location);
        withKey.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, "not-a-key-of-this-service");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(withKey)).StatusCode);

        Assert.Equal(0, recorder.SchemeLookups);
        Assert.Equal(0, recorder.PolicyLookups);
    }

    [Fact]
    public async Task WithApiKeysBothMiddlewaresRunAndAnAnonymousCallIsRefused()
    {
        const string key = "open-mode-pipeline-test-key-0123456789";
        var settings = CustomerApiFactory.SqliteSettings(TempDirectory.ForRun());
        settings["Auth:ApiKeys:0:Name"] = "pipeline-test";
        settings["Auth:ApiKeys:0:Hash"] = ApiKeyHash.Hash(key);
        settings["Auth:ApiKeys:0:Scopes:0"] = Scopes.Read;
        var recorder = new Recorder();
        await using var factory = Factory(settings, recorder);
        using var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/customers?limit=5")).StatusCode);
        using var keyed = new HttpRequestMessage(HttpMethod.Get, "/customers?limit=5");
        keyed.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, key);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(keyed)).StatusCode);

        Assert.True(recorder.SchemeLookups > 0, "the authentication middleware did not run");
        Assert.True(recorder.PolicyLookups > 0, "the authorization middleware did not run");
    }

    private static CustomerApiFactory Factory(Dictionary<string, string?> settings, Recorder recorder) =>
        new(settings, host => host.ConfigureTestServices(services =>
        {
            services.AddSingleton<IAuthenticationSchemeProvider>(sp =>
                new RecordingSchemeProvider(new AuthenticationSchemeProvider(sp.GetRequiredService<IOptions<AuthenticationOptions>>()), recorder));
            services.AddSingleton<IAuthorizationPolicyProvider>(sp =>
                new RecordingPolicyProvider(new DefaultAuthorizationPolicyProvider(sp.GetRequiredService<IOptions<AuthorizationOptions>>()), recorder));
        }));

    private sealed class Recorder
    {
        private int _schemes;
        private int _policies;

        public int SchemeLookups => Volatile.Read(ref _schemes);

        public int PolicyLookups => Volatile.Read(ref _policies);

        public void Scheme() => Interlocked.Increment(ref _schemes);

        public void Policy() => Interlocked.Increment(ref _policies);
    }

    private sealed class RecordingSchemeProvider(IAuthenticationSchemeProvider inner, Recorder recorder) : IAuthenticationSchemeProvider
    {
        public Task<IEnumerable<AuthenticationScheme>> GetAllSchemesAsync() => inner.GetAllSchemesAsync();

        public Task<AuthenticationScheme?> GetSchemeAsync(string name) => inner.GetSchemeAsync(name);

        public Task<AuthenticationScheme?> GetDefaultAuthenticateSchemeAsync()
        {
            recorder.Scheme();
            return inner.GetDefaultAuthenticateSchemeAsync();
        }

        public Task<AuthenticationScheme?> GetDefaultChallengeSchemeAsync() => inner.GetDefaultChallengeSchemeAsync();

        public Task<AuthenticationScheme?> GetDefaultForbidSchemeAsync() => inner.GetDefaultForbidSchemeAsync();

        public Task<AuthenticationScheme?> GetDefaultSignInSchemeAsync() => inner.GetDefaultSignInSchemeAsync();

        public Task<AuthenticationScheme?> GetDefaultSignOutSchemeAsync() => inner.GetDefaultSignOutSchemeAsync();

        public void AddScheme(AuthenticationScheme scheme) => inner.AddScheme(scheme);

        public void RemoveScheme(string name) => inner.RemoveScheme(name);

        public Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync() => inner.GetRequestHandlerSchemesAsync();
    }

    private sealed class RecordingPolicyProvider(IAuthorizationPolicyProvider inner, Recorder recorder) : IAuthorizationPolicyProvider
    {
        public bool AllowsCachingPolicies => false;

        public Task<AuthorizationPolicy?> GetPolicyAsync(string policyName)
        {
            recorder.Policy();
            return inner.GetPolicyAsync(policyName);
        }

        public Task<AuthorizationPolicy> GetDefaultPolicyAsync() => inner.GetDefaultPolicyAsync();

        public Task<AuthorizationPolicy?> GetFallbackPolicyAsync()
        {
            recorder.Policy();
            return inner.GetFallbackPolicyAsync();
        }
    }
}
