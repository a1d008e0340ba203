#!/usr/bin/env bash
# The benchmark of issue #7: starts RabbitMQ and MariaDB (scripts/servers.sh), builds Release and
# runs bench/Finstage.Bench against them. Arguments go to the driver: ./bench.sh --quick
# Writes bench/out/results.json. Not part of ./test.sh: timing targets fail on slow machines.
set -euo pipefail
cd "$(dirname "$0")"

# Servers of the bench's own, on ports of their own: test runs in other checkouts stop and start
# the servers on the default ports, which would cut a measurement short. Same script, same data
# folder (.local/servers); `scripts/servers.sh stop` with these variables stops them.
export FINSTAGE_MYSQL_PORT="${FINSTAGE_MYSQL_PORT:-3316}"
export FINSTAGE_AMQP_PORT="${FINSTAGE_AMQP_PORT:-5682}"
export FINSTAGE_RABBITMQ_MANAGEMENT_PORT="${FINSTAGE_RABBITMQ_MANAGEMENT_PORT:-15682}"
export FINSTAGE_RABBITMQ_DIST_PORT="${FINSTAGE_RABBITMQ_DIST_PORT:-25682}"
export FINSTAGE_EPMD_PORT="${FINSTAGE_EPMD_PORT:-4379}"
scripts/servers.sh start >/dev/null
eval "$(scripts/servers.sh env)"

export MASSTRANSIT_USAGE_TELEMETRY=false DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Finstage.sln -c Release -nologo -clp:ErrorsOnly
# Bounded: the driver stops itself (a budget per run), and this stops a hung one.
timeout -k 15 3600 dotnet bench/Finstage.Bench/bin/Release/net10.0/Finstage.Bench.dll "$@"
