#!/usr/bin/env bash
# Runs Finstage on this machine: the real RabbitMQ, MariaDB and Redis (installed with apt-get where
# missing) and the services, built from this checkout. Ctrl-C stops everything it started.
#
#   ./run.sh            crawl the real Yahoo Finance and Investing.com feeds (needs internet)
#   ./run.sh --offline  crawl a local feed server with generated sample news (no internet needed)
#   --no-telemetry      without the trace viewer: the services then export no traces or metrics
#
# By default the Aspire dashboard (scripts/dashboard.sh) runs beside them on loopback, and every
# service sends its traces, metrics and logs to it: one crawl is one trace there (docs/observability.md).
set -euo pipefail

offline=false
telemetry=true
for arg in "$@"; do
  case "$arg" in
    --offline) offline=true ;;
    --no-telemetry) telemetry=false ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$arg' (try --offline, --no-telemetry)" >&2; exit 2 ;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MASSTRANSIT_USAGE_TELEMETRY=false

before="$(scripts/servers.sh status)"
started_servers=true
case "$before" in *"mariadb: running"*"rabbitmq: running"*"redis: running"*) started_servers=false ;; esac
eval "$(scripts/servers.sh start)"

logs="$root/.local/logs"
mkdir -p "$logs"
dotnet build Finstage.sln -c Release -nologo -v quiet

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "Stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $started_servers; then scripts/servers.sh stop; fi
}
trap stop_all INT TERM EXIT

start_service() {
  local name="$1" project="$2" health="$3"
  shift 3
  dotnet run --no-build -c Release --project "$project" -- "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 120))
  until curl -fsS "$health" >/dev/null 2>&1; do
    if ! kill -0 "${pids[-1]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "$name did not become ready; the end of $logs/$name.log:" >&2
      tail -n 30 "$logs/$name.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "$name ready"
}

# The trace viewer before anything that sends to it. Unsecured, hence on loopback only
# (scripts/dashboard.sh refuses anything else; docs/decisions/0020-trace-viewer.md).
dashboard_url="${FINSTAGE_DASHBOARD_URL:-http://127.0.0.1:18888}"
export FINSTAGE_DASHBOARD_URL="$dashboard_url"
export FINSTAGE_DASHBOARD_OTLP_GRPC_URL="${FINSTAGE_DASHBOARD_OTLP_GRPC_URL:-http://127.0.0.1:18889}"
if $telemetry; then
  scripts/dashboard.sh >"$logs/dashboard.log" 2>&1 &
  pids+=($!)
  deadline=$((SECONDS + 120))
  until curl -fsS "$dashboard_url/api/telemetry/resources" >/dev/null 2>&1; do
    if ! kill -0 "${pids[-1]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "the dashboard did not become ready; the end of $logs/dashboard.log:" >&2
      tail -n 30 "$logs/dashboard.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "dashboard ready"
  # Every service (and its migrate step) exports over OTLP/gRPC to it; metrics every 10 s rather
  # than the default minute, so a crawl's figures show up while one is looking.
  export OTEL_EXPORTER_OTLP_ENDPOINT="$FINSTAGE_DASHBOARD_OTLP_GRPC_URL" OTEL_EXPORTER_OTLP_PROTOCOL=grpc
  export OTEL_METRIC_EXPORT_INTERVAL=10000
else
  # Nothing to send to: an endpoint inherited from the shell would only make the exporters retry.
  unset OTEL_EXPORTER_OTLP_ENDPOINT
fi

# The migrate steps first, as the migrator (ConnectionStrings__StorageMigrations and
# __HangfireMigrations from servers.sh): the services run as a user that may only read and write
# rows, and refuse to start on a schema these steps have not brought up to date.
migrate() {
  local name="$1" project="$2"
  if ! timeout -k 10 300 dotnet run --no-build -c Release --project "$project" -- migrate >"$logs/$name-migrate.log" 2>&1; then
    echo "$name: the migrate step failed; the end of $logs/$name-migrate.log:" >&2
    tail -n 30 "$logs/$name-migrate.log" >&2
    exit 1
  fi
  echo "$name schema up to date"
}
migrate storage services/storage/Finstage.Storage.csproj
migrate scheduler services/scheduler/Finstage.Scheduler.csproj

# Consumers before the scheduler: a request published before its queue exists would be lost.
start_service storage services/storage/Finstage.Storage.csproj http://127.0.0.1:5082/health/ready
if $offline; then
  feeds="http://127.0.0.1:5090"
  start_service feeds tools/Finstage.FeedServer/Finstage.FeedServer.csproj "$feeds/health" --urls "$feeds"
  # The sample feeds live on one local host: no need to be as slow with it as with real sites.
  export Sources__yahoo__UrlTemplate="$feeds/rss/2.0/headline?s={symbol}&region=US&lang=en-US"
  export Sources__investing__BaseUrl="$feeds"
  export Sources__yahoo__RequestsPerSecond=50 Sources__yahoo__Burst=20
  export Sources__investing__RequestsPerSecond=50 Sources__investing__Burst=20
  # The scheduler's budget per polling round follows the crawler's rate.
  export Schedule__Sources__yahoo__RequestsPerSecond=50 Schedule__Sources__investing__RequestsPerSecond=50
fi
# Each host's budget lives in Redis, so more crawler instances (started by hand with other Urls) share it.
export ConnectionStrings__Redis="$FINSTAGE_REDIS"
start_service crawler services/crawler/Finstage.Crawler.csproj http://127.0.0.1:5081/health/ready
start_service scheduler services/scheduler/Finstage.Scheduler.csproj http://127.0.0.1:5080/health/ready

cat <<INFO

Finstage is running$($offline && echo " on the local sample feeds at $feeds" || true).
  Hangfire dashboard             http://127.0.0.1:5080/hangfire   (POST /api/crawls, GET /api/watchlist)
  News API and its Scalar page   http://127.0.0.1:5082   (e.g. /api/news, /api/symbols, /api/crawls)
  RabbitMQ management UI         $FINSTAGE_RABBITMQ_MANAGEMENT   (guest / guest)
  Traces, metrics, logs          $($telemetry && echo "$dashboard_url   (Aspire dashboard, loopback only, no login)" || echo "off (--no-telemetry)")
  Logs                           $logs
Press Ctrl-C to stop.
INFO
wait -n "${pids[@]}"
