#!/usr/bin/env bash
# The benchmark of issue #7: starts RabbitMQ and MariaDB (scripts/servers.sh), builds Release and
# runs bench/Finstage.Bench against them. Arguments go to the driver: ./bench.sh --quick
# Writes bench/out/results.json. Not part of ./test.sh: timing targets fail on slow machines.
set -euo pipefail
cd "$(dirname "$0")"

eval "$(scripts/servers.sh env)"
answers() {
  curl -fsS -o /dev/null -u guest:guest "${FINSTAGE_RABBITMQ_MANAGEMENT}/api/overview" 2>/dev/null \
    && (exec 3<>"/dev/tcp/127.0.0.1/${FINSTAGE_MYSQL_PORT:-3306}") 2>/dev/null
}
# Servers another checkout started on the same ports will do: servers.sh would fail to bind them.
if ! answers; then
  scripts/servers.sh start >/dev/null
  eval "$(scripts/servers.sh env)"
fi

export MASSTRANSIT_USAGE_TELEMETRY=false DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Finstage.sln -c Release -nologo -clp:ErrorsOnly
# Bounded: the driver stops itself (a budget per run), and this stops a hung one.
timeout -k 15 3600 dotnet bench/Finstage.Bench/bin/Release/net10.0/Finstage.Bench.dll "$@"
