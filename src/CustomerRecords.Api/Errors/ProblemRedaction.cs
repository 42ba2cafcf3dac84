using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;

namespace CustomerRecords.Api.Errors;

/// <summary>Error responses never carry stack traces, SQL or connection strings, whatever produced them.</summary>
internal static partial class ProblemRedaction
{
    public static void RemoveDiagnostics(ProblemDetails problem)
    {
        problem.Extensions.Remove("exception");
        if (problem.Detail is not null && Diagnostics().IsMatch(problem.Detail))
        {
            problem.Detail = null;
        }

        if (problem.Title is not null && Diagnostics().IsMatch(problem.Title))
        {
            problem.Title = "An error occurred while processing the request.";
        }
    }

    [GeneratedRegex(@"(?is)\bselect\b.+\bfrom\b|\binsert\s+into\b|\bupdate\b.+\bset\b|\bdelete\s+from\b|\bsql\b|\n\s*at\s+\S+\(|(?:password|pwd|user\s?id|uid|server|data\s+source|host)\s*=")]
    private static partial Regex Diagnostics();
}
