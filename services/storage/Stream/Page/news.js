// The news page: the latest articles from GET /api/news, then new ones live from GET /api/news/stream.
// Plain script, no build step, no library: it must work offline, served by the storage service itself.
"use strict";

(() => {
  const form = document.getElementById("filters");
  const symbolSelect = document.getElementById("symbol");
  const sourceSelect = document.getElementById("source");
  const textInput = document.getElementById("text");
  const list = document.getElementById("news");
  const status = document.getElementById("status");
  const shown = new Set();
  let stream = null;
  let lastEventId = null;
  let retryTimer = null;
  let freshCount = 0;

  const filters = () => ({ symbol: symbolSelect.value, source: sourceSelect.value, text: textInput.value.trim() });

  function say(text) {
    status.textContent = text;
  }

  function timeText(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? "" : at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  // One article as a list item; text goes in as text, never as markup.
  function item(article, symbol) {
    const li = document.createElement("li");
    li.dataset.id = article.id;
    const heading = document.createElement("h2");
    const link = document.createElement("a");
    link.href = article.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = article.title;
    heading.append(link);
    const meta = document.createElement("p");
    meta.className = "meta";
    const parts = [
      ["symbol", symbol],
      ["source", article.source],
      ["publisher", article.publisher],
    ];
    for (const [name, value] of parts) {
      if (!value) continue;
      const span = document.createElement("span");
      span.className = name;
      span.textContent = value;
      meta.append(span);
    }
    const when = article.publishedAt || article.storedAt || article.firstSeenAt;
    if (when) {
      const time = document.createElement("time");
      time.dateTime = when;
      time.textContent = timeText(when);
      meta.append(time);
    }
    li.append(heading, meta);
    return li;
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }

  async function fillChoices() {
    try {
      const [symbols, sources] = await Promise.all([getJson("/api/symbols"), getJson("/api/sources/health")]);
      for (const s of symbols.map((x) => x.symbol).sort()) symbolSelect.append(new Option(s, s));
      for (const s of sources.map((x) => x.source).sort()) sourceSelect.append(new Option(s, s));
    } catch (error) {
      say("Could not load the symbols and sources; the list still works.");
    }
  }

  async function loadList() {
    const { symbol, source, text } = filters();
    const query = new URLSearchParams({ limit: "50" });
    if (symbol) query.set("symbol", symbol);
    if (source) query.set("source", source);
    if (text) query.set("text", text);
    say("Loading…");
    try {
      const page = await getJson(`/api/news?${query}`);
      list.replaceChildren();
      shown.clear();
      for (const article of page.items) {
        shown.add(article.id);
        const symbols = Array.isArray(article.symbols) ? article.symbols.join(", ") : "";
        list.append(item(article, symbol || symbols));
      }
      if (page.items.length === 0) {
        const none = document.createElement("li");
        none.className = "empty";
        none.textContent = "No news matches these filters yet.";
        list.append(none);
      }
      say(stream && stream.readyState === EventSource.OPEN ? "Live: new articles appear at the top." : "Connecting to the live stream…");
    } catch (error) {
      say("The news could not be loaded; try again shortly.");
    }
  }

  function matchesText(article) {
    const { text } = filters();
    return !text || article.title.toLowerCase().includes(text.toLowerCase());
  }

  function onArticle(event) {
    lastEventId = event.lastEventId || lastEventId;
    const article = JSON.parse(event.data);
    if (shown.has(article.id) || !matchesText(article)) return;
    shown.add(article.id);
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    const li = item(article, article.symbol);
    li.classList.add("fresh");
    list.prepend(li);
    setTimeout(() => li.classList.remove("fresh"), 50);
    freshCount += 1;
    say(`Live: ${freshCount} new ${freshCount === 1 ? "article" : "articles"} since the page was loaded.`);
  }

  function connect() {
    clearTimeout(retryTimer);
    if (stream) stream.close();
    const { symbol, source } = filters();
    const query = new URLSearchParams();
    if (symbol) query.set("symbol", symbol);
    if (source) query.set("source", source);
    // EventSource sends Last-Event-ID itself when it reconnects; a stream made anew carries it as a parameter.
    if (lastEventId) query.set("lastEventId", lastEventId);
    stream = new EventSource(`/api/news/stream?${query}`);
    stream.addEventListener("open", () => say("Live: new articles appear at the top."));
    stream.addEventListener("article", onArticle);
    // Some articles may have been missed (the server's replay window did not reach back far enough): re-read the list.
    stream.addEventListener("gap", () => loadList());
    stream.addEventListener("error", (event) => {
      if (event.data) {
        say("The live stream fell behind and is reconnecting…");
        return;
      }
      if (stream.readyState === EventSource.CLOSED) {
        // Refused (e.g. the server's stream limit): EventSource gives up for good, so try again later.
        say("The live stream is not available right now; retrying in 10 seconds.");
        retryTimer = setTimeout(connect, 10000);
      } else {
        say("Reconnecting to the live stream…");
      }
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    lastEventId = null;
    loadList();
    connect();
  });
  for (const select of [symbolSelect, sourceSelect]) {
    select.addEventListener("change", () => form.requestSubmit());
  }

  fillChoices();
  loadList();
  connect();
})();
