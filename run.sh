#!/usr/bin/env bash
# Runs Finstage on this machine: the real RabbitMQ and MariaDB (installed with apt-get where
# missing) and the services, built from this checkout. Ctrl-C stops everything it started.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MASSTRANSIT_USAGE_TELEMETRY=false

before="$(scripts/servers.sh status)"
started_servers=true
case "$before" in *"mariadb: running"*"rabbitmq: running"*) started_servers=false ;; esac
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
  dotnet run --no-build -c Release --project "$project" >"$logs/$name.log" 2>&1 &
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

start_service storage services/storage/Finstage.Storage.csproj http://127.0.0.1:5082/health/ready
start_service crawler services/crawler/Finstage.Crawler.csproj http://127.0.0.1:5081/health/ready
start_service scheduler services/scheduler/Finstage.Scheduler.csproj http://127.0.0.1:5080/health/ready

cat <<INFO

Finstage is running.
  Hangfire dashboard             http://127.0.0.1:5080/hangfire   (POST /api/crawls, GET /api/watchlist)
  News API and its Scalar page   http://127.0.0.1:5082   (e.g. /api/news, /api/symbols, /api/crawls)
  RabbitMQ management UI         $FINSTAGE_RABBITMQ_MANAGEMENT   (guest / guest)
  Logs                           $logs
Press Ctrl-C to stop.
INFO
wait -n "${pids[@]}"
