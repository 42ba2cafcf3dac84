using CustomerRecords.Api.Auth;


namespace CustomerRecords.Tests.Auth;

/// <summary>
/// Every protected route of the API with the scope it requires. The API core's tests can reuse this list
/// (<c>[MemberData(nameof(ProtectedRoutes.All), MemberType = typeof(ProtectedRoutes))]</c>); the security
/// test host maps exactly these routes, so the 401/403 tests here are real today.
/// </summary>
public static class ProtectedRoutes
{
    /// <summary>(method, path, required scope) for every protected route.</summary>
    public static TheoryData<string, string, string> All => new()
    {
        { "GET", "/customers", Scopes.Read },
        { "POST", "/customers", Scopes.Write },
        { "GET", "/customers/1", Scopes.Read },
        { "PUT", "/customers/1", Scopes.Write },
        { "PATCH", "/customers/1", Scopes.Write },
        { "DELETE", "/customers/1", Scopes.Write },
        { "POST", "/customers/1/restore", Scopes.Write },
        { "POST", "/customers/1/erase", Scopes.Erase },
        { "GET", "/customers/1/history", Scopes.Read },
        { "GET", "/customers/1/export", Scopes.Read },
        { "GET", "/changes", Scopes.Read },
        { "POST", "/create", Scopes.Write },
        { "GET", "/read/1", Scopes.Read },
        { "PUT", "/update/1", Scopes.Write },
        { "DELETE", "/delete/1", Scopes.Write },
    };

    /// <summary>The routes that need <see cref="Scopes.Write"/>.</summary>
    public static TheoryData<string, string> WriteRoutes
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var row in All)
            {
                if ((string)row[2] == Scopes.Write)
                {
                    data.Add((string)row[0], (string)row[1]);
                }
            }

            return data;
        }
    }

    /// <summary>A request for the route with a small JSON body where the method carries one.</summary>
    public static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH")
        {
            request.Content = new StringContent("""{"name":"Test","email":"t@example.org"}""", System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }
}
