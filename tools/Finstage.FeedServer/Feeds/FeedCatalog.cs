namespace Finstage.FeedServer.Feeds;

/// <summary>What the server knows about each feed it serves: a display name and the topic its news is about.</summary>
internal static class FeedCatalog
{
    /// <summary>One feed: the source it imitates, its symbol, what to call it, and where its headlines come from.</summary>
    public sealed record Feed(string Source, string Symbol, string Name, Templates.Topic Topic);

    public const string Yahoo = "yahoo";
    public const string Investing = "investing";

    /// <summary>Investing.com's feed paths and the pseudo-symbols the crawler's configuration gives them.</summary>
    public static readonly IReadOnlyList<(string Path, string Symbol, string Title)> InvestingFeeds =
    [
        ("/rss/news.rss", "ECONOMY", "Economy News"),
        ("/rss/news_25.rss", "US", "US Stock Market News"),
        ("/rss/market_overview.rss", "MARKET", "Market Overview"),
        ("/rss/commodities.rss", "COMMODITY", "Commodities News"),
        ("/rss/forex.rss", "FOREX", "Forex News"),
        ("/rss/news_301.rss", "TREASURY", "Bonds and Treasuries"),
        ("/rss/news_302.rss", "FED", "Central Bank News"),
        ("/rss/news_303.rss", "FINANCIAL", "Financial Sector News"),
        ("/rss/news_304.rss", "TECH", "Technology News"),
        ("/rss/news_305.rss", "ENERGY", "Energy News"),
        ("/rss/news_306.rss", "EMERGING", "Emerging Markets News"),
        ("/rss/news_307.rss", "EUROPE", "European Markets News"),
        ("/rss/news_308.rss", "ASIA", "Asian Markets News"),
    ];

    // The default watchlist's symbols, named as a headline would name them; any other symbol is treated as a stock.
    private static readonly Dictionary<string, (string Name, Templates.Topic Topic)> KnownSymbols = new(StringComparer.OrdinalIgnoreCase)
    {
        ["^IXIC"] = ("the Nasdaq Composite", Templates.Index),
        ["^GSPC"] = ("the S&P 500", Templates.Index),
        ["^DJI"] = ("the Dow", Templates.Index),
        ["ES=F"] = ("the S&P 500 futures contract", Templates.Index),
        ["NQ=F"] = ("the Nasdaq 100 futures contract", Templates.Index),
        ["YM=F"] = ("the Dow futures contract", Templates.Index),
        ["AAPL"] = ("Apple", Templates.Stock),
        ["AMZN"] = ("Amazon", Templates.Stock),
        ["GOOGL"] = ("Alphabet", Templates.Stock),
        ["TSLA"] = ("Tesla", Templates.Stock),
        ["MSFT"] = ("Microsoft", Templates.Stock),
        ["META"] = ("Meta Platforms", Templates.Stock),
        ["NVDA"] = ("Nvidia", Templates.Stock),
        ["^TNX"] = ("the 10-year Treasury yield", Templates.Rate),
        ["^TYX"] = ("the 30-year Treasury yield", Templates.Rate),
        ["^IRX"] = ("the 13-week bill yield", Templates.Rate),
        ["DX-Y.NYB"] = ("the US dollar index", Templates.Currency),
        ["UUP"] = ("the dollar-bullish fund UUP", Templates.Fund),
        ["UDN"] = ("the dollar-bearish fund UDN", Templates.Fund),
        ["^VIX"] = ("the VIX", Templates.Volatility),
        ["^VXN"] = ("the Nasdaq volatility index", Templates.Volatility),
        ["XLF"] = ("the financials ETF XLF", Templates.Fund),
        ["XLK"] = ("the technology ETF XLK", Templates.Fund),
        ["XLE"] = ("the energy ETF XLE", Templates.Fund),
        ["XLV"] = ("the health care ETF XLV", Templates.Fund),
        ["XLI"] = ("the industrials ETF XLI", Templates.Fund),
        ["LQD"] = ("the investment-grade bond ETF LQD", Templates.Fund),
        ["HYG"] = ("the high-yield bond ETF HYG", Templates.Fund),
        ["JNK"] = ("the junk bond ETF JNK", Templates.Fund),
        ["EFA"] = ("the developed-markets ETF EFA", Templates.Fund),
        ["EEM"] = ("the emerging-markets ETF EEM", Templates.Fund),
        ["IWM"] = ("the small-cap ETF IWM", Templates.Fund),
        ["VTI"] = ("the total-market ETF VTI", Templates.Fund),
    };

    public static Feed YahooFeed(string symbol) =>
        KnownSymbols.TryGetValue(symbol, out var known)
            ? new Feed(Yahoo, symbol, known.Name, known.Topic)
            : new Feed(Yahoo, symbol, symbol, Templates.Stock);

    public static Feed? InvestingFeed(string path)
    {
        foreach (var (feedPath, symbol, title) in InvestingFeeds)
        {
            if (string.Equals(feedPath, path, StringComparison.OrdinalIgnoreCase))
            {
                return new Feed(Investing, symbol, title, Templates.Desks[symbol]);
            }
        }
        return null;
    }

    public static Feed? Find(string source, string symbol) => source switch
    {
        Yahoo => YahooFeed(symbol),
        Investing => InvestingFeeds.Where(f => string.Equals(f.Symbol, symbol, StringComparison.OrdinalIgnoreCase))
            .Select(f => InvestingFeed(f.Path)).FirstOrDefault(),
        _ => null,
    };
}
