using System.Globalization;
using System.Text;

namespace Finstage.FeedServer.Feeds;

/// <summary>The sentences the sample news is made of: templates with <c>{slot}</c> holes, filled by a seeded choice.</summary>
/// <remarks>Written for this project; every headline they produce is invented. A slot is looked up as
/// <c>slot.up</c> or <c>slot.down</c> (after the item's direction) before plain <c>slot</c>, first among the
/// topic's own slots and then the common ones, so a headline never says "rises" for a fall.</remarks>
internal static class Templates
{
    public sealed record Topic(string[] Titles, string[] Summaries, Dictionary<string, string[]> Slots);

    private static readonly Dictionary<string, string[]> Common = new(StringComparer.Ordinal)
    {
        ["verb.up"] = ["rise", "climb", "gain", "jump", "edge higher", "advance"],
        ["verb.down"] = ["fall", "slip", "drop", "slide", "edge lower", "retreat"],
        ["verbs.up"] = ["rises", "climbs", "gains", "jumps", "edges higher", "advances"],
        ["verbs.down"] = ["falls", "slips", "drops", "slides", "edges lower", "retreats"],
        ["dir.up"] = ["higher", "up"],
        ["dir.down"] = ["lower", "down"],
        ["mood.up"] = ["risk appetite returns", "buyers step back in", "dip buyers show up early", "sentiment improves"],
        ["mood.down"] = ["caution spreads", "investors trim risk", "profit-taking sets in", "sentiment sours"],
        ["macro"] = ["inflation data", "the jobs report", "retail sales figures", "a central bank decision", "bond auctions",
            "manufacturing surveys", "consumer confidence readings", "the earnings season"],
        ["when"] = ["this week", "on Friday", "next week", "in the coming days", "before the weekend"],
        ["who"] = ["one strategist", "a portfolio manager", "a veteran trader", "an equity analyst", "a fixed-income desk head"],
        ["view.up"] = ["the rally still has room", "the worst may be over", "buyers are in control for now"],
        ["view.down"] = ["the market looks stretched", "volatility is likely to stay high", "investors should expect a choppy stretch"],
        ["quarter"] = ["first-quarter", "second-quarter", "third-quarter", "fourth-quarter"],
    };

    private static readonly string[] CommonSummaries =
    [
        "{Name} {verbs} as {mood}, with traders looking ahead to {macro} {when}.",
        "The move leaves {name} {pct}% {dir} on the session; {who} says {view}.",
        "Investors weighed {macro} against the latest company news. {Who} says {view}.",
        "{Name} is {pct}% {dir} so far today as {mood}.",
    ];

    public static readonly Topic Stock = new(
        [
            "{Name} shares {verb} {pct}% after {event}",
            "{Name} stock {verbs} as {mood}",
            "Why {name} stock is {moving} today",
            "{Name} {verbs} {pct}% after {quarter} results",
            "Is {name} a buy after this week's {pct}% {swing}?",
            "{Name} {verbs} in premarket trading after {event}",
            "What {who} makes of {name} after its {pct}% {swing}",
        ],
        CommonSummaries,
        new(StringComparer.Ordinal)
        {
            ["event.up"] = ["earnings beat estimates", "an analyst upgrade", "it announces a share buyback", "upbeat guidance",
                "a new product launch", "a supply deal with a large customer", "record quarterly revenue"],
            ["event.down"] = ["revenue misses forecasts", "an analyst downgrade", "a product launch is delayed", "cautious guidance",
                "a regulatory inquiry is disclosed", "margins shrink", "a large holder sells shares"],
            ["moving.up"] = ["rallying", "climbing", "soaring"],
            ["moving.down"] = ["sliding", "falling", "sinking"],
            ["swing.up"] = ["gain", "rally", "climb"],
            ["swing.down"] = ["drop", "slide", "decline"],
        });

    public static readonly Topic Index = new(
        [
            "{Name} {verbs} {pct}% as {mood}",
            "{Name} closes {dir} ahead of {macro}",
            "Stock market today: {name} {verbs} as investors weigh {macro}",
            "{Name} {verbs} in late trading as {mood}",
            "{Name} heads for a weekly {swing} as {mood}",
        ],
        CommonSummaries,
        new(StringComparer.Ordinal)
        {
            ["swing.up"] = ["gain", "advance"],
            ["swing.down"] = ["loss", "decline"],
        });

    public static readonly Topic Rate = new(
        [
            "{Name} moves {bp} basis points {dir} after {macro}",
            "Bond market: {name} {verbs} as {mood}",
            "{Name} {verbs} to a {span} {extreme} before {macro}",
            "Treasury auction leaves {name} {dir}",
        ],
        [
            "{Name} moved {bp} basis points {dir} as bond traders reacted to {macro}.",
            "Yields moved {dir} across the curve; {who} says {view}.",
        ],
        new(StringComparer.Ordinal)
        {
            ["span"] = ["two-week", "one-month", "three-month", "six-week"],
            ["extreme.up"] = ["high"],
            ["extreme.down"] = ["low"],
        });

    public static readonly Topic Currency = new(
        [
            "{Name} {verbs} as traders price {macro}",
            "Dollar {verbs} {pct}% against major currencies after {macro}",
            "{Name} {verbs}; euro and yen {move}",
        ],
        CommonSummaries,
        new(StringComparer.Ordinal)
        {
            ["move.up"] = ["give ground", "weaken"],
            ["move.down"] = ["firm", "strengthen"],
        });

    public static readonly Topic Volatility = new(
        [
            "{Name} {verbs} to {level} as {mood}",
            "Volatility check: {name} {verbs} {pct}% ahead of {macro}",
            "Options traders {hedge} as {name} {verbs}",
        ],
        [
            "{Name} moved {dir} to {level}; {who} says {view}.",
            "Demand for protection {changes} as {mood}.",
        ],
        new(StringComparer.Ordinal)
        {
            // Volatility rises when stocks fall; the words follow the gauge, not the market.
            ["level"] = ["14", "16", "18", "21", "24", "27"],
            ["hedge.up"] = ["rush for protection", "load up on puts"],
            ["hedge.down"] = ["unwind hedges", "sell volatility"],
            ["changes.up"] = ["picks up", "surges"],
            ["changes.down"] = ["fades", "eases"],
        });

    public static readonly Topic Fund = new(
        [
            "{Name} {verbs} {pct}% as {mood}",
            "{Name} sees {flow} of ${n} million in a week",
            "Fund flows: {name} {verbs} as investors rotate on {macro}",
            "{Name} {verbs} after {macro}",
        ],
        [
            "{Name} {verbs} as investors reposition ahead of {macro}.",
            "Flows into {name} {changed} this week; {who} says {view}.",
        ],
        new(StringComparer.Ordinal)
        {
            ["flow.up"] = ["inflows"],
            ["flow.down"] = ["outflows"],
            ["changed.up"] = ["picked up", "accelerated"],
            ["changed.down"] = ["slowed", "reversed"],
        });

    // Declared before Desks, which reads it while the class initialises.
    private static readonly Dictionary<string, string[]> DeskSlots = new(StringComparer.Ordinal)
    {
        ["region"] = ["Euro zone", "US", "Japanese", "UK", "Canadian", "Australian", "German"],
        ["indicator"] = ["inflation", "unemployment", "core inflation", "wage growth", "factory activity"],
        ["comes.up"] = ["tops", "beats"],
        ["comes.down"] = ["misses", "falls short of"],
        ["grows.up"] = ["grows faster than expected", "picks up speed"],
        ["grows.down"] = ["slows", "stalls"],
        ["survey"] = ["an early estimate", "official data", "a revised reading"],
        ["closes.up"] = ["closes", "ends"],
        ["closes.down"] = ["closes", "ends"],
        ["sector"] = ["technology", "energy", "banking", "health care", "industrial", "consumer"],
        ["hold"] = ["hold steady", "drift", "trade in a narrow range"],
        ["commodity"] = ["gold", "silver", "copper", "wheat", "coffee", "crude oil", "platinum"],
        ["cause.up"] = ["supply worries", "stronger demand", "a weaker dollar", "falling inventories"],
        ["cause.down"] = ["demand concerns", "a firmer dollar", "rising inventories", "easing supply worries"],
        ["swing.up"] = ["gain", "advance"],
        ["swing.down"] = ["loss", "decline"],
        ["pair"] = ["EUR/USD", "USD/JPY", "GBP/USD", "AUD/USD", "USD/CAD", "USD/CHF"],
        ["currency"] = ["the euro", "the yen", "sterling", "the Swiss franc", "the Australian dollar"],
        ["span"] = ["two-week", "one-month", "three-month"],
        ["extreme.up"] = ["high"],
        ["extreme.down"] = ["low"],
        ["tenor"] = ["two-year", "five-year", "10-year", "30-year"],
        ["stance.up"] = ["sell duration", "cut long positions"],
        ["stance.down"] = ["add duration", "seek safety in bonds"],
        ["official"] = ["a Fed governor", "a regional Fed president", "the Fed vice chair"],
        ["policy.up"] = ["may need to stay high for longer", "could still rise"],
        ["policy.down"] = ["could come down later this year", "are restrictive enough"],
        ["split.up"] = ["divided", "split"],
        ["split.down"] = ["united", "in broad agreement"],
        ["odds"] = ["25", "40", "55", "70", "85"],
        ["lender"] = ["A regional lender's", "A large US bank's", "A European bank's", "A card issuer's"],
        ["emergingMarket"] = ["Brazil's", "India's", "South Africa's", "Mexico's", "Turkey's", "Indonesia's"],
        ["flow.up"] = ["pour money into", "return to"],
        ["flow.down"] = ["pull money from", "shun"],
        ["europeanIndex"] = ["STOXX 600", "DAX", "CAC 40", "FTSE 100", "IBEX 35"],
        ["asianIndex"] = ["Nikkei", "Hang Seng", "Kospi", "ASX 200", "Shanghai Composite"],
    };

    /// <summary>The Investing.com-shaped feeds, one topic each.</summary>
    public static readonly Dictionary<string, Topic> Desks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ECONOMY"] = Desk(
            "{Region} {indicator} {comes} expectations at {pct}%",
            "{Region} economy {grows} in the {quarter} period, {survey} shows",
            "{Region} {indicator} {verbs} to {pct}%"),
        ["US"] = Desk(
            "Wall Street {closes} {dir} as investors weigh {macro}",
            "US stocks {verb} as {mood}",
            "{Sector} stocks lead Wall Street {dir} ahead of {macro}"),
        ["MARKET"] = Desk(
            "Global markets {verb} as {mood}",
            "Stocks {verb} ahead of {macro} {when}",
            "Market overview: {sector} shares {verb} while bonds {hold}"),
        ["COMMODITY"] = Desk(
            "{Commodity} {verbs} {pct}% on {cause}",
            "{Commodity} prices {verb} as {mood}",
            "{Commodity} heads for a weekly {swing} after {macro}"),
        ["FOREX"] = Desk(
            "{Pair} {verbs} as traders await {macro}",
            "Dollar {verbs} against {currency} after {macro}",
            "{Currency} {verbs} to a {span} {extreme}"),
        ["TREASURY"] = Desk(
            "Treasury yields {verb} after {macro}",
            "{Tenor} yield moves {bp} basis points {dir} as {mood}",
            "Bond investors {stance} ahead of {macro}"),
        ["FED"] = Desk(
            "{Official} says rates {policy}",
            "Fed minutes show officials {split} on the pace of cuts",
            "Markets price {odds}% chance of a Fed move {when}"),
        ["FINANCIAL"] = Desk(
            "Bank stocks {verb} as {cause}",
            "{Lender} shares {verb} {pct}% after {quarter} results",
            "Insurers {verb} as {mood}"),
        ["TECH"] = Desk(
            "Chipmakers {verb} on {cause}",
            "Tech stocks {verb} {pct}% as {mood}",
            "{Sector} names {verb} after {macro}"),
        ["ENERGY"] = Desk(
            "Oil {verbs} {pct}% as {cause}",
            "Natural gas {verbs} on {cause}",
            "Energy shares {verb} as crude {verbs}"),
        ["EMERGING"] = Desk(
            "Emerging-market stocks {verb} as {mood}",
            "{EmergingMarket} currency {verbs} after {macro}",
            "Investors {flow} emerging-market bonds {when}"),
        ["EUROPE"] = Desk(
            "European shares {verb} as {mood}",
            "{EuropeanIndex} {verbs} {pct}% after {macro}",
            "ECB officials signal rates {policy}"),
        ["ASIA"] = Desk(
            "Asian stocks {verb} as {mood}",
            "{AsianIndex} {verbs} {pct}% after {macro}",
            "{AsianIndex} {closes} {dir} as exporters {verb}"),
    };

    private static Topic Desk(params string[] titles) => new(titles, [], DeskSlots);

    /// <summary>Fills a template: slots from the topic, then the common ones; <c>{Slot}</c> capitalises the value.</summary>
    public static string Fill(string template, Topic topic, bool up, ref StableRandom random, string name, int depth = 0)
    {
        var text = new StringBuilder(template.Length + 32);
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = open < 0 ? -1 : template.IndexOf('}', open);
            if (close < 0)
            {
                text.Append(template, i, template.Length - i);
                break;
            }
            text.Append(template, i, open - i);
            var slot = template[(open + 1)..close];
            var value = Value(char.ToLowerInvariant(slot[0]) + slot[1..], topic, up, ref random, name, depth);
            text.Append(char.IsUpper(slot[0]) ? Capitalise(value) : value);
            i = close + 1;
        }
        return text.ToString();
    }

    private static string Value(string slot, Topic topic, bool up, ref StableRandom random, string name, int depth)
    {
        switch (slot)
        {
            case "name":
                return name;
            case "pct":
                return (random.Next(2, 60) / 10.0).ToString("0.0", CultureInfo.InvariantCulture);
            case "bp":
                return random.Next(2, 16).ToString(CultureInfo.InvariantCulture);
            case "n":
                return (random.Next(5, 90) * 10).ToString(CultureInfo.InvariantCulture);
        }
        var directed = $"{slot}.{(up ? "up" : "down")}";
        var choices = Lookup(topic.Slots, directed, slot) ?? Lookup(Common, directed, slot)
            ?? throw new InvalidOperationException($"The template slot {{{slot}}} has no values.");
        var choice = random.Pick(choices);
        // Values may hold slots of their own ("{name} …"); two levels are all the templates use.
        return depth < 2 && choice.Contains('{', StringComparison.Ordinal) ? Fill(choice, topic, up, ref random, name, depth + 1) : choice;
    }

    private static string[]? Lookup(Dictionary<string, string[]> slots, string directed, string plain) =>
        slots.TryGetValue(directed, out var values) || slots.TryGetValue(plain, out values) ? values : null;

    private static string Capitalise(string value) =>
        value.Length == 0 || char.IsUpper(value[0]) ? value : char.ToUpperInvariant(value[0]) + value[1..];
}
