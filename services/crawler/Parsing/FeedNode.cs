using System.Text;
using System.Xml;

namespace Finstage.Crawler.Parsing;

/// <summary>One element of a feed document, as far as it was read before the document ended or broke.</summary>
/// <remarks>A small tree instead of XDocument: XDocument cannot keep what was read before a well-formedness
/// error, and a truncated feed still has complete items worth keeping.</remarks>
internal sealed class FeedNode
{
    private const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";

    // A few microseconds of reading between two looks at the cancellation token.
    private const int NodesBetweenCancellationChecks = 4096;

    private readonly List<object> _content = [];
    private readonly List<(string Namespace, string LocalName, string Value)> _attributes = [];

    private FeedNode(string localName, string ns, Uri? baseUri)
    {
        LocalName = localName;
        Namespace = ns;
        BaseUri = baseUri;
    }

    public string LocalName { get; }

    public string Namespace { get; }

    /// <summary>The base for relative references here: the document's, overridden by any xml:base on the way down.</summary>
    public Uri? BaseUri { get; private set; }

    /// <summary>False when the document ended or broke before this element's end tag.</summary>
    public bool Complete { get; private set; }

    public IEnumerable<FeedNode> Elements => _content.OfType<FeedNode>();

    public bool HasElements => _content.Exists(c => c is FeedNode);

    /// <summary>The text directly inside this element (not inside its children).</summary>
    public string OwnText => string.Concat(_content.OfType<string>());

    public string? Attribute(string localName, string ns = "")
    {
        foreach (var (attributeNs, name, value) in _attributes)
        {
            if (name == localName && attributeNs == ns)
            {
                return value;
            }
        }

        return null;
    }

    public bool DeclaresNamespace(string ns) =>
        _attributes.Exists(a => a.Namespace == "http://www.w3.org/2000/xmlns/" && a.Value == ns);

    /// <summary>Reads the whole document, keeping everything read before any error.</summary>
    /// <returns>The root element (null when none was read) and the reader's error, if any.</returns>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled while it reads.</exception>
    public static (FeedNode? Root, XmlException? Error) Read(string xml, Uri? documentUri, int maxDepth, CancellationToken cancellationToken = default)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersFromEntities = 1024,
            CheckCharacters = false,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            ConformanceLevel = ConformanceLevel.Document,
        };

        FeedNode? root = null;
        var open = new Stack<FeedNode>();
        using var stringReader = new StringReader(xml);
        using var reader = XmlReader.Create(stringReader, settings);
        try
        {
            // Skip() already moves to the next node, so the loop must not Read() past it.
            var skipped = false;
            var nodes = 0;
            while (skipped ? !reader.EOF : reader.Read())
            {
                skipped = false;
                if (++nodes % NodesBetweenCancellationChecks == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                switch (reader.NodeType)
                {
                    case XmlNodeType.Element:
                        var parent = open.Count > 0 ? open.Peek() : null;
                        if (open.Count >= maxDepth)
                        {
                            reader.Skip();
                            skipped = true;
                            continue;
                        }

                        var node = new FeedNode(reader.LocalName, reader.NamespaceURI, parent?.BaseUri ?? documentUri);
                        node.ReadAttributes(reader);
                        if (parent is null)
                        {
                            root ??= node;
                        }
                        else
                        {
                            parent._content.Add(node);
                        }

                        if (reader.IsEmptyElement)
                        {
                            node.Complete = true;
                        }
                        else
                        {
                            open.Push(node);
                        }

                        break;
                    case XmlNodeType.EndElement:
                        open.Pop().Complete = true;
                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                        if (open.Count > 0)
                        {
                            open.Peek()._content.Add(reader.Value);
                        }

                        break;
                }
            }

            return (root, null);
        }
        catch (XmlException ex)
        {
            return (root, ex);
        }
    }

    /// <summary>All text inside this element and its descendants, in document order.</summary>
    public string DeepText()
    {
        var sb = new StringBuilder();
        AppendText(sb);
        return sb.ToString();
    }

    private void AppendText(StringBuilder sb)
    {
        foreach (var item in _content)
        {
            if (item is string s)
            {
                sb.Append(s);
            }
            else if (item is FeedNode child)
            {
                if (HtmlText.IsDroppedElement(child.LocalName))
                {
                    continue;
                }

                // Block elements separate words even when the markup has no whitespace between them.
                var block = HtmlText.IsBlockElement(child.LocalName);
                if (block)
                {
                    sb.Append(' ');
                }

                child.AppendText(sb);
                if (block)
                {
                    sb.Append(' ');
                }
            }
        }
    }

    private void ReadAttributes(XmlReader reader)
    {
        if (!reader.MoveToFirstAttribute())
        {
            return;
        }

        do
        {
            _attributes.Add((reader.NamespaceURI, reader.LocalName, reader.Value));
            if (reader.LocalName == "base" && reader.NamespaceURI == XmlNamespace)
            {
                BaseUri = ResolveBase(BaseUri, reader.Value);
            }
        }
        while (reader.MoveToNextAttribute());

        reader.MoveToElement();
    }

    private static Uri? ResolveBase(Uri? current, string value)
    {
        var trimmed = value.Trim();
        if (Uri.TryCreate(trimmed, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
        {
            return absolute;
        }

        return current is not null && Uri.TryCreate(current, trimmed, out var resolved) ? resolved : current;
    }
}
