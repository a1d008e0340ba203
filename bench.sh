#!/usr/bin/env bash
# The benchmark of issue #7: starts RabbitMQ and MariaDB (scripts/servers.sh), builds Release and
# runs bench/Finstage.Bench against them. Arguments go to the driver: ./bench.sh --quick
# Writes bench/out/results.json. Not part of ./test.sh: timing targets fail on slow machines.
set -euo pipefail
cd "$(dirname "$0")"

# servers.sh refuses to start a second server on a port another checkout's server already holds;
# that server will do, so only fail when nothing answers.
if ! scripts/servers.sh start >/dev/null; then
  echo "bench.sh: scripts/servers.sh start failed; checking whether servers already answer on the configured ports" >&2
fi
eval "$(scripts/servers.sh env)"
if ! curl -fsS -u guest:guest "${FINSTAGE_RABBITMQ_MANAGEMENT}/api/overview" >/dev/null; then
  echo "bench.sh: RabbitMQ does not answer at ${FINSTAGE_RABBITMQ_MANAGEMENT}" >&2
  exit 1
fi

export MASSTRANSIT_USAGE_TELEMETRY=false DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Finstage.sln -c Release -nologo -clp:ErrorsOnly
# Bounded: the driver stops itself (a budget per run), and this stops a hung one.
timeout -k 15 3600 dotnet bench/Finstage.Bench/bin/Release/net10.0/Finstage.Bench.dll "$@"
