using System.Globalization;
using CustomerRecords.Api.Auth;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>API keys in a settings dictionary, listed as the service reads them: <c>Auth:ApiKeys:N:Name/Hash/Scopes:M</c>.</summary>
internal static class ApiKeySettings
{
    /// <summary>
    /// Adds the key <paramref name="key"/> (its hash only, as the service keeps it) as <paramref name="name"/> with
    /// <paramref name="scopes"/>, after the keys already listed.
    /// </summary>
    public static void AddApiKey(this Dictionary<string, string?> settings, string name, string key, params string[] scopes)
    {
        var index = 0;
        while (settings.ContainsKey(Setting(index, "Name")))
        {
            index++;
        }

        settings[Setting(index, "Name")] = name;
        settings[Setting(index, "Hash")] = ApiKeyHash.Hash(key);
        for (var scope = 0; scope < scopes.Length; scope++)
        {
            settings[Setting(index, string.Create(CultureInfo.InvariantCulture, $"Scopes:{scope}"))] = scopes[scope];
        }
    }

    private static string Setting(int index, string field) => string.Create(CultureInfo.InvariantCulture, $"Auth:ApiKeys:{index}:{field}");
}
