using System.CommandLine;

namespace Finstage.Crawler.Commands;

/// <summary>The crawler's command-line verbs, run instead of the worker host when the first argument names one.</summary>
public static class CrawlerCommands
{
    private static readonly HashSet<string> Verbs = new(StringComparer.Ordinal) { "parse", "fetch", "--help", "-h", "-?" };

    public static bool Handles(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args.Length > 0 && Verbs.Contains(args[0]);
    }

    /// <summary>Runs the command line with the given writers standing in for stdout and stderr.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Finstage crawler: with no command, runs the crawler worker.")
        {
            ParseCommand.Create(output, error),
            FetchCommand.Create(output, error),
        };

        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
