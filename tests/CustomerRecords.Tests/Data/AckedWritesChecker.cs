using System.Collections.Concurrent;
using MySqlConnector;

namespace CustomerRecords.Tests.Data;

/// <summary>
/// Remembers every write the service acknowledged to a client and checks afterwards, with plain
/// SQL, that the database still holds them: each acknowledged create exactly once (by email, with
/// the id the client was given), no email twice, and each row at least at the latest version a
/// client was told it reached (with that version's name when no later write moved it on).
/// </summary>
public sealed class AckedWritesChecker
{
    private readonly ConcurrentDictionary<string, int> _createdIdByEmail = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _attemptedEmails = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<int, (int Version, string Name)> _latestUpdate = new();

    public int AcknowledgedCreates => _createdIdByEmail.Count;

    public int AttemptedCreates => _attemptedEmails.Count;

    public int UpdatedRows => _latestUpdate.Count;

    /// <summary>A create was sent (acknowledged or not): its email may exist at most once.</summary>
    public void CreateAttempted(string email) => _attemptedEmails.TryAdd(email, 0);

    /// <summary>The service answered 201 with <paramref name="id"/>.</summary>
    public void CreateAcknowledged(string email, int id)
    {
        CreateAttempted(email);
        _createdIdByEmail[email] = id;
    }

    /// <summary>The service answered 200 for an update: the row had <paramref name="version"/> and <paramref name="name"/>.</summary>
    public void UpdateAcknowledged(int id, int version, string name) =>
        _latestUpdate.AddOrUpdate(id, (version, name), (_, old) => version > old.Version ? (version, name) : old);

    /// <summary>Every way the database disagrees with what clients were told; empty when it keeps its word.</summary>
    public async Task<IReadOnlyList<string>> CheckAsync(string connectionString, CancellationToken ct = default)
    {
        var problems = new List<string>();
        await using var connection = new MySqlConnection(new MySqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(ct);

        var rowsByEmail = new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);
        var rowsById = new Dictionary<int, (int Version, string Name)>();
        await using (var command = new MySqlCommand("SELECT id, email, version, name FROM customers", connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetInt32(0);
                var email = reader.GetString(1);
                rowsById[id] = (reader.GetInt32(2), reader.GetString(3));
                if (!rowsByEmail.TryGetValue(email, out var ids))
                {
                    rowsByEmail[email] = ids = [];
                }

                ids.Add(id);
            }
        }

        foreach (var (email, ids) in rowsByEmail.Where(e => e.Value.Count > 1))
        {
            problems.Add($"duplicate: email {email} is on {ids.Count} rows ({string.Join(", ", ids)})");
        }

        foreach (var (email, id) in _createdIdByEmail)
        {
            if (!rowsByEmail.TryGetValue(email, out var ids))
            {
                problems.Add($"missing: acknowledged create {email} (id {id}) is not in the table");
            }
            else if (!ids.Contains(id))
            {
                problems.Add($"wrong id: acknowledged create {email} was answered id {id} but is stored as {string.Join(", ", ids)}");
            }
        }

        foreach (var email in _attemptedEmails.Keys.Where(e => !_createdIdByEmail.ContainsKey(e)))
        {
            if (rowsByEmail.TryGetValue(email, out var ids) && ids.Count > 1)
            {
                problems.Add($"double-applied: unacknowledged create {email} produced {ids.Count} rows");
            }
        }

        foreach (var (id, acked) in _latestUpdate)
        {
            if (!rowsById.TryGetValue(id, out var row))
            {
                problems.Add($"missing: row {id} (acknowledged at version {acked.Version}) is not in the table");
            }
            else if (row.Version < acked.Version)
            {
                problems.Add($"lost update: row {id} is at version {row.Version}, but version {acked.Version} was acknowledged");
            }
            else if (row.Version == acked.Version && !string.Equals(row.Name, acked.Name, StringComparison.Ordinal))
            {
                problems.Add($"lost update: row {id} at version {row.Version} has name '{row.Name}', acknowledged '{acked.Name}'");
            }
        }

        return problems;
    }
}
