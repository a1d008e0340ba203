#!/usr/bin/env bash
# Takes screenshots of the running Finstage pages in headless Chromium, to see them as a person would:
# the Hangfire dashboard, the Scalar API page, the news API and the news page (storage's `/`), and, where the
# Aspire dashboard runs (./run.sh without --no-telemetry), the trace of the newest stored crawl and the crawler's
# metrics. Assumes the services are up (e.g. `./run.sh --offline`). Installs Debian's chromium with apt-get where it is missing
# (scripts/chromium.sh).
#
#   scripts/screenshots.sh            PNGs under .local/screenshots/ (git-ignored)
#
# Fails (exit 1, with the reason) when a page answers an HTTP error, when a screenshot is missing
# or empty, or when the Scalar page did not render the API it documents.
# Settings: FINSTAGE_SCHEDULER_URL (http://127.0.0.1:5080), FINSTAGE_STORAGE_URL (http://127.0.0.1:5082),
# FINSTAGE_DASHBOARD_URL (http://127.0.0.1:18888), FINSTAGE_SCREENSHOTS_DIR (.local/screenshots),
# FINSTAGE_SCREENSHOT_WAIT_MS (5000).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scheduler="${FINSTAGE_SCHEDULER_URL:-http://127.0.0.1:5080}"
storage="${FINSTAGE_STORAGE_URL:-http://127.0.0.1:5082}"
dashboard="${FINSTAGE_DASHBOARD_URL:-http://127.0.0.1:18888}"
out="${FINSTAGE_SCREENSHOTS_DIR:-$root/.local/screenshots}"
wait_ms="${FINSTAGE_SCREENSHOT_WAIT_MS:-5000}"

log() { echo "[screenshots] $*" >&2; }
fail() { echo "[screenshots] FAILED: $*" >&2; exit 1; }

# --- Chromium ------------------------------------------------------------------------------

# scripts/chromium.sh installs chromium (and its driver and a font) with apt-get where missing.
chromium_env="$("$root/scripts/chromium.sh")" || fail "scripts/chromium.sh could not provide chromium"
eval "$chromium_env"
browser="$FINSTAGE_CHROMIUM"

# --- Helpers -------------------------------------------------------------------------------

profiles=()
cleanup() { for dir in "${profiles[@]}"; do rm -rf "$dir"; done; }
trap cleanup EXIT

# Runs headless Chromium with a throwaway profile; extra arguments go before the URL.
chromium_run() {
  local url="$1"; shift
  local profile
  profile="$(mktemp -d)"
  profiles+=("$profile")
  # --virtual-time-budget lets pages that render with JavaScript (Scalar, Hangfire's charts) finish
  # before the picture is taken; timeout guards against a browser that never exits.
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --window-size=1400,1000 --virtual-time-budget="$wait_ms" \
    "$@" "$url"
}

# Every page is checked before any browser starts, so an HTTP error (or no answer) is reported
# as such, for all pages at once, rather than as a picture of an error page.
check_http() {
  local url status failed=0
  for url in "$@"; do
    status="$(curl -sS -L -o /dev/null -w '%{http_code}' --max-time 30 "$url" 2>/dev/null)" || status="000"
    case "$status" in
      2??) ;;
      000) log "$url did not answer (is the service running?)"; failed=1 ;;
      *) log "$url answered HTTP $status"; failed=1 ;;
    esac
  done
  [ $failed -eq 0 ] || fail "not every page answers; see above"
}

shoot() {
  local name="$1" url="$2" file="$out/$1.png"
  rm -f "$file"
  if ! chromium_run "$url" --screenshot="$file" >"$out/$name.chromium.log" 2>&1; then
    tail -n 20 "$out/$name.chromium.log" >&2
    fail "chromium could not take a screenshot of $url (log: $out/$name.chromium.log)"
  fi
  [ -s "$file" ] || fail "no screenshot of $url: $file is missing or empty (log: $out/$name.chromium.log)"
  # Every PNG starts with the same eight bytes; anything else is not a picture of the page.
  [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$file is not a PNG"
  rm -f "$out/$name.chromium.log"
  log "$name: $url -> ${file#"$root"/} ($(wc -c <"$file") bytes)"
}

# --- The pages -----------------------------------------------------------------------------

mkdir -p "$out"

check_http "$scheduler/hangfire" "$scheduler/hangfire/recurring" "$scheduler/hangfire/jobs/succeeded" \
  "$storage/api/news" "$storage/scalar/v1" "$storage/openapi/v1.json" "$storage/"

shoot hangfire "$scheduler/hangfire"
shoot hangfire-recurring "$scheduler/hangfire/recurring"
shoot hangfire-succeeded "$scheduler/hangfire/jobs/succeeded"
shoot news-api "$storage/api/news"
shoot scalar "$storage/scalar/v1"
shoot news-page "$storage/"

# The news page fills its list with script (GET /api/news) and keeps a live stream open; its list must have rendered.
page_dom="$out/news-page.dom.html"
chromium_run "$storage/" --dump-dom >"$page_dom" 2>"$out/news-page.dom.log" || fail "chromium could not load $storage/"
grep -qE '<li (data-id=|class="empty")' "$page_dom" || fail "the news page did not render its list (DOM in ${page_dom#"$root"/})"
rm -f "$out/news-page.dom.log"
log "news-page: rendered its list"

# The Scalar page is an empty <div id="app"> until its script has fetched the OpenAPI document
# and rendered it, so the API's title and its paths appear in the DOM only when that worked.
title="$(curl -sS --max-time 30 "$storage/openapi/v1.json" | tr -d '\n' \
  | sed -n 's/.*"info"[^{]*{[^}]*"title" *: *"\([^"]*\)".*/\1/p')"
[ -n "$title" ] || fail "$storage/openapi/v1.json is not an OpenAPI document with a title"
dom="$out/scalar.dom.html"
chromium_run "$storage/scalar/v1" --dump-dom >"$dom" 2>"$out/scalar.dom.log" || fail "chromium could not load $storage/scalar/v1"
grep -qF "$title" "$dom" || fail "the Scalar page did not render the API title \"$title\" (DOM in ${dom#"$root"/})"
grep -qF "/api/news" "$dom" || fail "the Scalar page does not list /api/news (DOM in ${dom#"$root"/})"
rm -f "$out/scalar.dom.log"
log "scalar: rendered \"$title\" with its operations"

# --- The trace viewer ----------------------------------------------------------------------

# The Aspire dashboard is a Blazor Server app: its pages are empty until their SignalR circuit has
# rendered them, which --screenshot's virtual time never waits for (the PNG came out blank). So these
# pages go through chromedriver's WebDriver API (plain HTTP, curl and jq): load, wait until the page
# shows a text it must show, then take the picture.
driver_pid=""
driver_session=""
stop_driver() {
  [ -z "$driver_session" ] || curl -sS -X DELETE "$driver_url/session/$driver_session" >/dev/null 2>&1 || true
  [ -z "$driver_pid" ] || kill "$driver_pid" 2>/dev/null || true
  cleanup
}
webdriver() { # METHOD PATH [JSON]
  curl -sS --max-time 90 -X "$1" "$driver_url$2" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
shoot_blazor() { # NAME URL TEXT
  local name="$1" url="$2" text="$3" file="$out/$1.png" deadline=$((SECONDS + 60)) shown=""
  webdriver POST "/session/$driver_session/url" "$(jq -nc --arg url "$url" '{url: $url}')" >/dev/null \
    || fail "chromedriver could not open $url"
  until grep -qF "$text" <<<"$shown"; do
    [ $SECONDS -lt $deadline ] || fail "$url did not show \"$text\" within 60 s"
    sleep 1
    shown="$(webdriver POST "/session/$driver_session/execute/sync" '{"script":"return document.body.innerText","args":[]}' | jq -r '.value // empty')"
  done
  sleep 2 # the charts and the waterfall's bars settle after the text
  webdriver GET "/session/$driver_session/screenshot" | jq -r '.value' | base64 -d >"$file" || fail "no screenshot of $url"
  [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$file is not a PNG"
  log "$name: $url -> ${file#"$root"/} ($(wc -c <"$file") bytes)"
}

# One crawl end to end: the trace holding the newest "store crawl result" span, which the storage sends
# last, so the scheduler's and the crawler's spans of that crawl are in it too (docs/observability.md).
if curl -fsS --max-time 10 -o /dev/null "$dashboard/api/telemetry/resources" 2>/dev/null; then
  spans="$(curl -fsS --max-time 30 "$dashboard/api/telemetry/spans?limit=10000")" || fail "$dashboard/api/telemetry/spans did not answer"
  trace="$(jq -r '[.data.resourceSpans[].scopeSpans[].spans[] | select(.name == "store crawl result")]
                  | sort_by(.endTimeUnixNano | tonumber) | last | .traceId // empty' <<<"$spans")"
  [ -n "$trace" ] || fail "the dashboard at $dashboard holds no stored crawl yet (no \"store crawl result\" span): wait for a cycle"

  driver_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  driver_url="http://127.0.0.1:$driver_port"
  "$FINSTAGE_CHROMEDRIVER" --port="$driver_port" >"$out/chromedriver.log" 2>&1 &
  driver_pid=$!
  trap stop_driver EXIT
  for _ in $(seq 1 60); do curl -fsS --max-time 2 "$driver_url/status" >/dev/null 2>&1 && break; sleep 0.5; done
  capabilities="$(jq -nc --arg binary "$browser" '{capabilities: {alwaysMatch: {browserName: "chrome", "goog:chromeOptions": {binary: $binary,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--window-size=1600,1200"]}}}}')"
  driver_session="$(webdriver POST /session "$capabilities" | jq -r '.value.sessionId // empty')"
  [ -n "$driver_session" ] || fail "chromedriver did not start chromium (log: $out/chromedriver.log)"

  shoot_blazor dashboard-trace "$dashboard/traces/detail/$trace" "store crawl result"
  shoot_blazor dashboard-traces "$dashboard/traces" "Finstage.Storage"
  shoot_blazor dashboard-metrics "$dashboard/metrics/resource/Finstage.Crawler?meter=Finstage&instrument=finstage.crawls&view=Graph" "finstage.crawl.fetch.duration"
  log "dashboard: trace $trace"
else
  log "no Aspire dashboard at $dashboard (./run.sh --no-telemetry?): its pages are left out"
fi

log "all screenshots in ${out#"$root"/}"
