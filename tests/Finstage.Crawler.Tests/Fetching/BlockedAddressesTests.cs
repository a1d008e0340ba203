using System.Net;
using Finstage.Crawler.Fetching;

namespace Finstage.Crawler.Tests.Fetching;

/// <summary>The address classifier and the URL redaction behind the crawler's refusal of internal targets (issue 12, item 4).</summary>
[Trait("Category", "Reliability")]
[Trait("Category", "Security")]
[Trait("Lane", "Fast")]
public sealed class BlockedAddressesTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.0.2", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("0.1.2.3", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.254", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("100.64.0.1", "private")]
    [InlineData("198.18.0.1", "private")]
    [InlineData("192.0.0.8", "private")]
    [InlineData("::ffff:10.1.2.3", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("64:ff9b::a00:1", "private")] // NAT64 of 10.0.0.1
    [InlineData("64:ff9b::7f00:1", "loopback")] // NAT64 of 127.0.0.1
    [InlineData("64:ff9b:1::1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::7f00:1", "reserved")] // IPv4-compatible ::127.0.0.1
    public void KindOf_NamesTheRange_WhenTheAddressIsBlocked(string address, string kind)
    {
        BlockedAddresses.KindOf(IPAddress.Parse(address)).ShouldBe(kind);
        BlockedAddresses.IsBlocked(IPAddress.Parse(address)).ShouldBeTrue();
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.15.255.255")] // just below 172.16/12
    [InlineData("172.32.0.0")] // just above it
    [InlineData("100.128.0.1")] // just above 100.64/10
    [InlineData("11.0.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("223.255.255.255")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")] // NAT64 of 8.8.8.8
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:80b::200e")]
    public void KindOf_IsNull_WhenTheAddressIsPublic(string address)
    {
        BlockedAddresses.KindOf(IPAddress.Parse(address)).ShouldBeNull();
    }

    [Theory]
    // Every spelling of a loopback host that Uri (and so the connection) reads as 127.x: why hosts are never string-matched.
    [InlineData("http://2130706434/", "127.0.0.2")]
    [InlineData("http://0x7f000001/", "127.0.0.1")]
    [InlineData("http://0x7f.1/", "127.0.0.1")]
    [InlineData("http://017700000001/", "127.0.0.1")]
    [InlineData("http://127.1/", "127.0.0.1")]
    [InlineData("http://0/", "0.0.0.0")]
    public void KindOf_BlocksTheAddress_WhateverTheUrlSpellsIt(string url, string address)
    {
        var host = new Uri(url).IdnHost;

        host.ShouldBe(address);
        IPAddress.TryParse(host, out var parsed).ShouldBeTrue();
        BlockedAddresses.IsBlocked(parsed!).ShouldBeTrue();
    }

    [Theory]
    [InlineData("https://user:hunter2@feeds.example.com/rss?s=AAPL", "https://feeds.example.com/rss?s=AAPL")]
    [InlineData("https://feeds.example.com/rss?s=AAPL&apikey=abc&region=US", "https://feeds.example.com/rss?s=AAPL&apikey=REDACTED&region=US")]
    [InlineData("https://feeds.example.com/rss?access_token=t0k&X-Amz-Signature=5f1e", "https://feeds.example.com/rss?access_token=REDACTED&X-Amz-Signature=REDACTED")]
    [InlineData("https://feeds.example.com/rss?apiKey=1&sessionId=2&pwd=3", "https://feeds.example.com/rss?apiKey=REDACTED&sessionId=REDACTED&pwd=REDACTED")]
    [InlineData("https://feeds.example.com/rss?u=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA", "https://feeds.example.com/rss?u=REDACTED")]
    [InlineData("https://feeds.example.com/rss?s=BRK.B&lang=en-US&from=2026-12-05#top", "https://feeds.example.com/rss?s=BRK.B&lang=en-US&from=2026-12-05")]
    [InlineData("http://127.0.0.1:5090/rss/news.rss", "http://127.0.0.1:5090/rss/news.rss")]
    public void Of_DropsCredentialsAndSecretLookingValues_WhenAUrlIsShown(string url, string shown)
    {
        DisplayUrl.Of(new Uri(url)).ShouldBe(shown);
    }
}
