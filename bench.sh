#!/usr/bin/env bash
# The benchmark of issue #7: starts RabbitMQ and MariaDB (scripts/servers.sh), builds Release and
# runs bench/Finstage.Bench against them. Arguments go to the driver: ./bench.sh --quick
# Writes bench/out/results.json. Not part of ./test.sh: timing targets fail on slow machines.
#
#   --keep-servers   leave the bench's servers running afterwards (by default it stops the servers
#                    it started, as ./test.sh does; servers that were running before stay running)
set -euo pipefail
cd "$(dirname "$0")"

keep_servers=false
driver_args=()
for arg in "$@"; do
  case "$arg" in
    --keep-servers) keep_servers=true ;;
    *) driver_args+=("$arg") ;;
  esac
done

# Servers of the bench's own, on ports of their own: test runs in other checkouts stop and start
# the servers on the default ports, which would cut a measurement short. Same script; these ports
# have their own data folders (.local/servers/mariadb-3316, .local/servers/rabbitmq-5682-…), so
# the two sets run side by side. `scripts/servers.sh stop` with these variables stops them.
export FINSTAGE_MYSQL_PORT="${FINSTAGE_MYSQL_PORT:-3316}"
export FINSTAGE_AMQP_PORT="${FINSTAGE_AMQP_PORT:-5682}"
export FINSTAGE_RABBITMQ_MANAGEMENT_PORT="${FINSTAGE_RABBITMQ_MANAGEMENT_PORT:-15682}"
export FINSTAGE_RABBITMQ_DIST_PORT="${FINSTAGE_RABBITMQ_DIST_PORT:-25682}"
export FINSTAGE_EPMD_PORT="${FINSTAGE_EPMD_PORT:-4379}"
export FINSTAGE_REDIS_PORT="${FINSTAGE_REDIS_PORT:-6389}"

# p5's peers: the same Redis, and PostgreSQL, also on a port of the bench's own.
export FINSTAGE_POSTGRES_PORT="${FINSTAGE_POSTGRES_PORT:-5442}"

# One run at a time per port set: a run that starts while the last one's exit is still stopping the servers would
# have them stopped under it (seen: MariaDB shut down one second after this run had started it). Waits for the other.
mkdir -p .local/servers
exec 9>".local/servers/bench-$FINSTAGE_MYSQL_PORT.lock"
if ! flock -n 9; then
  echo "bench.sh: another ./bench.sh runs on these ports; waiting for it to end (at most 2 hours)" >&2
  flock -w 7200 9 || { echo "bench.sh: the other run did not end" >&2; exit 1; }
fi

# Leave running what was running before; stop what this run started, however it ends.
started_servers=true
case "$(scripts/servers.sh status)" in *"mariadb: running"*"rabbitmq: running"*"redis: running"*) started_servers=false ;; esac
stop_servers() {
  trap - EXIT
  if $started_servers && ! $keep_servers; then scripts/servers.sh stop || true; fi
  if ! $keep_servers; then scripts/servers.sh stop peers || true; fi
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The servers outlive this run and must not hold its lock (9>&-).
scripts/servers.sh start >/dev/null 9>&-
eval "$(scripts/servers.sh env)"
eval "$(scripts/servers.sh start peers 9>&-)"

export MASSTRANSIT_USAGE_TELEMETRY=false DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Finstage.sln -c Release -nologo -clp:ErrorsOnly
# Bounded: the driver stops itself (a budget per run), and this stops a hung one. In the background
# and waited for, so that Ctrl-C or a TERM reach this script at once (timeout runs in a process
# group of its own, out of the terminal's reach) and end the driver before the servers stop.
timeout -k 15 3600 dotnet bench/Finstage.Bench/bin/Release/net10.0/Finstage.Bench.dll "${driver_args[@]}" &
driver=$!
end_driver() { kill -TERM "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true; exit "$1"; }
trap 'end_driver 130' INT
trap 'end_driver 143' TERM
wait "$driver"
