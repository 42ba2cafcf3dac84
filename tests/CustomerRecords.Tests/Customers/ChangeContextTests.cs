using System.Security.Claims;
using CustomerRecords.Api.Auth;
using CustomerRecords.Api.Customers;

namespace CustomerRecords.Tests.Customers;

/// <summary>The actor a history event records, from the caller's principal.</summary>
public sealed class ChangeContextTests
{
    private static ClaimsPrincipal Principal(params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), authenticationType: "test"));

    [Fact]
    public void AnApiKeyIsNamedByItsName() =>
        Assert.Equal("key:crm-sync", ChangeContext.ActorOf(Principal((ApiKeyAuthenticationHandler.ClientClaim, "crm-sync"), (ClaimTypes.Name, "crm-sync"))));

    [Fact]
    public void AJwtIsNamedByItsSubjectAndElseByItsClient()
    {
        Assert.Equal("user:4f1c", ChangeContext.ActorOf(Principal(("sub", "4f1c"), ("client_id", "app"))));
        Assert.Equal("client:app", ChangeContext.ActorOf(Principal(("client_id", "app"))));
    }

    [Fact]
    public void NobodyAuthenticatedIsAnonymous()
    {
        Assert.Equal("anonymous", ChangeContext.ActorOf(new ClaimsPrincipal(new ClaimsIdentity())));
        Assert.Equal("anonymous", ChangeContext.ActorOf(Principal(("scope", "customers:read"))));
    }

    [Fact]
    public void AnOverlongActorIsCutToTheColumn() =>
        Assert.Equal(300, ChangeContext.ActorOf(Principal(("sub", new string('s', 1000)))).Length);
}
