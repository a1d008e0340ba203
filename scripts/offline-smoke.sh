#!/usr/bin/env bash
# What a newcomer does: ./run.sh --offline, then news in /api/news within 60 s of the services
# being up (the first cycle runs at start-up). Exits 0 when news arrived; stops what it started.
# With FINSTAGE_SCREENSHOTS=1 it also takes scripts/screenshots.sh's look in headless Chromium.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log="$root/.local/logs/run-offline.log"
mkdir -p "$(dirname "$log")"

since="$(date -u +%Y-%m-%dT%H:%M:%S)"
./run.sh --offline >"$log" 2>&1 &
runner=$!
trap 'kill -TERM $runner 2>/dev/null; wait $runner 2>/dev/null' EXIT

# Building and starting may take a while on a cold machine; the 60 s count starts when run.sh says it is up.
deadline=$((SECONDS + 600))
until grep -q "Finstage is running" "$log"; do
  if ! kill -0 $runner 2>/dev/null || [ $SECONDS -ge $deadline ]; then
    echo "offline run: ./run.sh --offline did not come up; the end of its output:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  sleep 1
done
started=$SECONDS
until [ $((SECONDS - started)) -ge 60 ]; do
  # News of this run, not of an earlier one: a crawl that succeeded since start-up, and articles.
  latest="$(curl -fsS 'http://127.0.0.1:5082/api/crawls?status=Succeeded&limit=1' 2>/dev/null | grep -o '"finishedAt":"[^"]*"' | head -n 1 | cut -d'"' -f4)"
  count="$(curl -fsS 'http://127.0.0.1:5082/api/news?limit=200' 2>/dev/null | grep -o '"id":' | wc -l)"
  if [[ -n "$latest" && ! "$latest" < "$since" && "${count:-0}" -gt 0 ]]; then
    echo "offline run: $count articles in /api/news $((SECONDS - started)) s after start-up"
    if [ "${FINSTAGE_SCREENSHOTS:-0}" = 1 ]; then
      scripts/screenshots.sh
      exit $?
    fi
    exit 0
  fi
  sleep 2
done
echo "offline run: no news in /api/news within 60 s; service logs are in .local/logs" >&2
exit 1
