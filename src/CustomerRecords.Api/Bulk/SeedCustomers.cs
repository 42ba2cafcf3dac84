using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Bogus;

namespace CustomerRecords.Api.Bulk;

/// <summary>
/// Realistic fake customers for <c>seed</c>, as a stream of rows for the import engine (one batched writer for
/// import and seed). Names and phones from Bogus; emails made unique by the row's number; creation times in the three
/// years before a fixed day. The same <c>seed</c> value gives the same customers, row for row.
/// </summary>
internal static class SeedCustomers
{
    private static readonly DateTime Reference = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly string[] Domains = ["example.com", "example.org", "example.net"];

    public static async IAsyncEnumerable<CustomerFileRow> GenerateAsync(long count, int seed, [EnumeratorCancellation] CancellationToken ct)
    {
        var faker = new Faker("en") { Random = new Randomizer(seed) };
        for (long i = 1; i <= count; i++)
        {
            if (i % 10_000 == 0)
            {
                ct.ThrowIfCancellationRequested();
                await Task.Yield();
            }

            var first = faker.Name.FirstName();
            var last = faker.Name.LastName();
            var email = string.Create(CultureInfo.InvariantCulture, $"{Local(first)}.{Local(last)}.{i}@{faker.PickRandom(Domains)}");
            var phone = faker.Random.Bool(0.9f) ? faker.Phone.PhoneNumber("+1 (###) ###-####") : null;
            var created = Reference.AddSeconds(-faker.Random.Int(0, 3 * 365 * 24 * 3600));
            yield return new CustomerFileRow(i, null, $"{first} {last}", email, phone, true, created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A name as the local part of an address: ASCII letters and digits only, lower case.</summary>
    private static string Local(string name)
    {
        var local = new StringBuilder(name.Length);
        foreach (var c in name.Normalize(NormalizationForm.FormD))
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                local.Append(char.ToLowerInvariant(c));
            }
        }

        return local.Length > 0 ? local.ToString() : "customer";
    }
}
