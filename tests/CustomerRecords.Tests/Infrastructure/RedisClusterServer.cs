using System.Diagnostics;
using System.Globalization;

namespace CustomerRecords.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster of 3 primaries and 3 replicas: six redis-server child processes on free loopback ports
/// (<c>cluster-enabled yes</c>, each with its own directory), joined by <c>redis-cli --cluster create --cluster-replicas 1</c>.
/// A 2 s node timeout makes a killed primary's replica take over within seconds.
/// </summary>
public sealed class RedisClusterServer : IAsyncDisposable
{
    private const int NodeCount = 6;
    private static readonly TimeSpan StateTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<string> RedisCliPath = new(() => ServerBinaries.Locate("redis-cli"));

    private readonly List<RedisServer> _nodes;

    private RedisClusterServer(List<RedisServer> nodes) => _nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>StackExchange.Redis configuration listing every node (as <c>ConnectionStrings:Redis</c> would on ElastiCache cluster mode).</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(n => n.ConnectionString));

    public static async Task<RedisClusterServer> StartAsync(CancellationToken cancellationToken = default)
    {
        _ = RedisCliPath.Value; // fails with how to install redis-tools when missing
        var starts = Enumerable.Range(0, NodeCount).Select(_ => RedisServer.StartAsync(
            """
            cluster-enabled yes
            cluster-config-file nodes.conf
            cluster-node-timeout 2000
            cluster-replica-validity-factor 0
            """,
            cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            foreach (var started in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        var cluster = new RedisClusterServer([.. starts.Select(s => s.Result)]);
        try
        {
            await CliAsync(
                null,
                ["--cluster", "create", .. cluster._nodes.Select(n => n.ConnectionString), "--cluster-replicas", "1", "--cluster-yes"],
                cancellationToken);
            await WaitUntilOkAsync(cluster._nodes, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs redis-cli against <paramref name="node"/> (or with no node option) and returns its output; throws on a non-zero exit.</summary>
    public static async Task<string> CliAsync(RedisServer? node, IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(RedisCliPath.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (node is not null)
        {
            start.ArgumentList.Add("-h");
            start.ArgumentList.Add(node.Host);
            start.ArgumentList.Add("-p");
            start.ArgumentList.Add(node.Port.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StateTimeout);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {await output}{await error}");
        }

        return await output;
    }

    /// <summary>The node currently serving <paramref name="key"/>'s slot as primary, from CLUSTER NODES as a live node sees it; null while no live primary does (mid-failover).</summary>
    public async Task<RedisServer?> PrimaryOfAsync(string key, CancellationToken cancellationToken = default)
    {
        var live = await AnyLiveAsync(cancellationToken);
        var slot = int.Parse((await CliAsync(live, ["cluster", "keyslot", key], cancellationToken)).Trim(), CultureInfo.InvariantCulture);
        foreach (var node in await NodesAsync(live, cancellationToken))
        {
            if (node.Primary && !node.Failed && node.Slots.Any(r => r.From <= slot && slot <= r.To))
            {
                return _nodes.Single(n => n.Port == node.Port);
            }
        }

        return null;
    }

    /// <summary>The hash slot of <paramref name="key"/> (<c>CLUSTER KEYSLOT</c>).</summary>
    public async Task<int> SlotOfAsync(string key, CancellationToken cancellationToken = default) =>
        int.Parse((await CliAsync(await AnyLiveAsync(cancellationToken), ["cluster", "keyslot", key], cancellationToken)).Trim(), CultureInfo.InvariantCulture);

    /// <summary>
    /// Moves <paramref name="slot"/> from the primary serving it to another primary by hand, as <c>redis-cli --cluster reshard</c>
    /// does one slot: the target is set IMPORTING and the source MIGRATING, the slot's keys are MIGRATEd in batches (from then on a
    /// client asking the source for a moved key is answered <c>ASK</c>), <paramref name="whileAsking"/> runs, and the slot is
    /// assigned to the target on the target, the source and the other primaries (a client asking the source is then answered <c>MOVED</c>).
    /// </summary>
    public async Task<(RedisServer From, RedisServer To)> MigrateSlotAsync(int slot, Func<Task> whileAsking, CancellationToken cancellationToken = default)
    {
        var nodes = await NodesAsync(await AnyLiveAsync(cancellationToken), cancellationToken);
        var source = nodes.Single(n => n.Primary && !n.Failed && n.Slots.Any(r => r.From <= slot && slot <= r.To));
        var target = nodes.First(n => n.Primary && !n.Failed && n.Id != source.Id);
        var from = _nodes.Single(n => n.Port == source.Port);
        var to = _nodes.Single(n => n.Port == target.Port);
        var slotText = slot.ToString(CultureInfo.InvariantCulture);

        await CommandAsync(to, ["cluster", "setslot", slotText, "importing", source.Id], cancellationToken);
        await CommandAsync(from, ["cluster", "setslot", slotText, "migrating", target.Id], cancellationToken);
        while ((await CliAsync(from, ["cluster", "getkeysinslot", slotText, "100"], cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } keys)
        {
            await CommandAsync(from, ["migrate", to.Host, to.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys], cancellationToken, "OK", "NOKEY");
        }

        await whileAsking();
        foreach (var node in new[] { to, from })
        {
            await CommandAsync(node, ["cluster", "setslot", slotText, "node", target.Id], cancellationToken);
        }

        // The other primaries learn it by gossip anyway; telling them is a shortcut. The node list read above may call a
        // node primary that a recent failover made a replica, which refuses SETSLOT: that is no failure of the move.
        foreach (var node in _nodes.Where(n => n != to && n != from && nodes.Single(c => c.Port == n.Port) is { Primary: true, Failed: false }))
        {
            await CommandAsync(node, ["cluster", "setslot", slotText, "node", target.Id], cancellationToken, "OK", "ERR Please use SETSLOT only with masters.");
        }

        return (from, to);
    }

    /// <summary>How many commands <paramref name="node"/> answered with the error <paramref name="prefix"/> (<c>MOVED</c>, <c>ASK</c>...), from <c>INFO errorstats</c>.</summary>
    public static async Task<long> ErrorCountAsync(RedisServer node, string prefix, CancellationToken cancellationToken = default)
    {
        var line = (await CliAsync(node, ["info", "errorstats"], cancellationToken))
            .Split('\n', StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => l.StartsWith($"errorstat_{prefix}:count=", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The replica of <paramref name="primary"/>. Right after the cluster is created a node may not have heard yet
    /// (gossip) which replica follows it: asks again until one does, up to the cluster's state timeout.
    /// </summary>
    public async Task<RedisServer> ReplicaOfAsync(RedisServer primary, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + StateTimeout;
        while (true)
        {
            var nodes = await NodesAsync(primary, cancellationToken);
            var id = nodes.Single(n => n.Port == primary.Port).Id;
            if (nodes.FirstOrDefault(n => n.PrimaryId == id) is { } replica)
            {
                return _nodes.Single(n => n.Port == replica.Port);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No replica of Redis node {primary.Port} was known within {StateTimeout}.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>redis-cli exits 0 on an error reply: a command whose answer must be one of <paramref name="expected"/> (default OK).</summary>
    private static async Task CommandAsync(RedisServer node, string[] arguments, CancellationToken cancellationToken, params string[] expected)
    {
        var answer = (await CliAsync(node, arguments, cancellationToken)).Trim();
        if (!(expected.Length == 0 ? ["OK"] : expected).Contains(answer, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', arguments)} on {node.Port} answered: {answer}");
        }
    }

    /// <summary>Waits until every node in <paramref name="nodes"/> reports <c>cluster_state:ok</c>.</summary>
    public static async Task WaitUntilOkAsync(IEnumerable<RedisServer> nodes, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + StateTimeout;
        foreach (var node in nodes)
        {
            while (!(await CliAsync(node, ["cluster", "info"], cancellationToken)).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Redis node {node.Port} did not report cluster_state:ok within {StateTimeout}.");
                }

                await Task.Delay(100, cancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private async Task<RedisServer> AnyLiveAsync(CancellationToken cancellationToken)
    {
        foreach (var node in _nodes)
        {
            if (await node.PingAsync(TimeSpan.FromSeconds(1), cancellationToken))
            {
                return node;
            }
        }

        throw new InvalidOperationException("No Redis node answers.");
    }

    private static async Task<List<ClusterNode>> NodesAsync(RedisServer from, CancellationToken cancellationToken)
    {
        // <id> <ip:port@cport> <flags> <primary id|-> <ping> <pong> <epoch> <link> <slot ranges...>
        var nodes = new List<ClusterNode>();
        foreach (var line in (await CliAsync(from, ["cluster", "nodes"], cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            var address = parts[1].Split('@')[0];
            var port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            var flags = parts[2].Split(',');
            var slots = parts.Skip(8).Where(p => !p.StartsWith('[')).Select(p =>
            {
                var range = p.Split('-');
                var from = int.Parse(range[0], CultureInfo.InvariantCulture);
                return (From: from, To: range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : from);
            }).ToList();
            nodes.Add(new ClusterNode(parts[0], port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("fail?"), parts[3], slots));
        }

        return nodes;
    }

    private sealed record ClusterNode(string Id, int Port, bool Primary, bool Failed, string PrimaryId, List<(int From, int To)> Slots);
}
