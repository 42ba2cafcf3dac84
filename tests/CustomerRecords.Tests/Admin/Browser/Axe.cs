using System.Text;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace CustomerRecords.Tests.Admin.Browser;

/// <summary>axe-core in the page: no violation of impact serious or critical.</summary>
internal static class Axe
{
    public static async Task AssertAccessibleAsync(this IPage page, string view)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        if (bad.Count == 0)
        {
            return;
        }

        var message = new StringBuilder($"axe found {bad.Count} serious or critical violation(s) on the {view} view ({page.Url}):");
        foreach (var violation in bad)
        {
            message.Append($"\n- {violation.Id} ({violation.Impact}): {violation.Help}");
            foreach (var node in violation.Nodes)
            {
                message.Append($"\n    at {node.Target}: {node.Html}");
            }
        }

        Assert.Fail(message.ToString());
    }
}
