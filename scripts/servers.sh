#!/usr/bin/env bash
# Starts (and stops) the real RabbitMQ and MariaDB that Finstage's tests and ./run.sh use:
# Debian packages, bound to 127.0.0.1, data under .local/servers (git-ignored).
#
#   scripts/servers.sh start    install where missing, start, wait until ready, print settings
#   scripts/servers.sh stop     stop exactly the processes this script started for these ports
#   scripts/servers.sh status   say what is running, and on which ports
#   scripts/servers.sh env      print the connection settings as shell exports
#
# Each port set has servers and data of its own, so sets run side by side (./bench.sh's next to
# ./test.sh's): on the default ports .local/servers/mariadb and .local/servers/rabbitmq, on others
# .local/servers/mariadb-<port> and .local/servers/rabbitmq-<amqp>-<management>-<dist>-<epmd>.
#
# `start` and `stop` take an optional server, `mariadb`, `rabbitmq` or `redis`, to start or stop only that
# one (the reliability tests stop a server mid-run and start it again with its data intact).
#
# Redis (FINSTAGE_REDIS_PORT, default 6379) holds the crawlers' shared per-host token buckets
# (docs/decisions/0017-shared-host-budget.md); it keeps nothing on disk, as a budget outlives no restart.
#
# `start peers` / `stop peers` start or stop PostgreSQL and Redis for ./bench.sh's Hangfire comparison
# (FINSTAGE_REDIS_PORT, FINSTAGE_POSTGRES_PORT; `env peers` prints their settings).
#
# RabbitMQ runs with the management and shovel plug-ins (scripts/redrive.sh moves _error queues back).
# Running `start` twice is safe: a server that already answers is left alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Absolute and without symlinks: a server is recognised by the folder in its command line.
base="$(realpath -m "${FINSTAGE_SERVERS_DIR:-$root/.local/servers}")"
mysql_port="${FINSTAGE_MYSQL_PORT:-3306}"
amqp_port="${FINSTAGE_AMQP_PORT:-5672}"
mgmt_port="${FINSTAGE_RABBITMQ_MANAGEMENT_PORT:-15672}"
dist_port="${FINSTAGE_RABBITMQ_DIST_PORT:-25672}"
epmd_port="${FINSTAGE_EPMD_PORT:-4369}"
redis_port="${FINSTAGE_REDIS_PORT:-6379}"
# The benchmark's PostgreSQL (p5's Hangfire.PostgreSql peer), run from Debian's newest installed version.
peer_postgres_port="${FINSTAGE_POSTGRES_PORT:-5432}"
peer_postgres_dir="$base/postgres-$peer_postgres_port"
peer_postgres_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
peer_postgres_user="finstage_bench"
peer_postgres_password="finstage-bench-local"
db_name="finstage"
# Two users, both bound to 127.0.0.1/localhost, so their fixed passwords work nowhere else:
# the migrator changes the schema (the services' `migrate` step, test set-up), the runtime user
# only reads and writes rows (the running services). See docs/reliability.md, Security.
migrator_user="finstage_migrator"
migrator_password="finstage-migrator-local"
runtime_user="finstage_runtime"
runtime_password="finstage-runtime-local"

# The folders of the default ports are those every port set shared before (an existing checkout's
# data stays where it is); any other set gets folders named by its ports.
legacy_maria_dir="$base/mariadb"
legacy_rabbit_dir="$base/rabbitmq"
if [ "$mysql_port" = 3306 ]; then
  maria_dir="$legacy_maria_dir"
else
  maria_dir="$base/mariadb-$mysql_port"
fi
if [ "$amqp_port:$mgmt_port:$dist_port:$epmd_port" = "5672:15672:25672:4369" ]; then
  rabbit_dir="$legacy_rabbit_dir"
else
  rabbit_dir="$base/rabbitmq-$amqp_port-$mgmt_port-$dist_port-$epmd_port"
fi
rabbit_ports=("$amqp_port" "$mgmt_port" "$dist_port" "$epmd_port")
# Same name in every set: each set's nodes register with an epmd of their own, under a HOME (and
# Erlang cookie) of their own, so the names never meet.
rabbit_node="finstage@localhost"

log() { echo "[servers] $*" >&2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

pid_from() { [ -s "$1" ] && tr -d '[:space:]' <"$1" || true; }

# The TCP ports process $1 listens on, one a line (ss, from /proc: needs the same user or root).
listen_ports() {
  { ss -Hltnp 2>/dev/null || true; } | awk -v want="pid=$1," 'index($0, want) { n = split($4, a, ":"); print a[n] }' | sort -un
}

# The process listening on TCP port $1, if any.
port_holder() {
  { ss -Hltnp "sport = :$1" 2>/dev/null || true; } | awk 'match($0, /pid=[0-9]+/) && !found { print substr($0, RSTART + 4, RLENGTH - 4); found = 1 }'
}

# The data folder a server of this script runs from: mariadbd's --defaults-file, the Erlang VM's
# -home, or (epmd) the HOME it was started with. Nothing for other processes.
folder_of() {
  local pid="$1" args i
  [ -r "/proc/$pid/cmdline" ] || return 0
  mapfile -d '' args <"/proc/$pid/cmdline" 2>/dev/null || return 0
  for i in "${!args[@]}"; do
    case "${args[$i]}" in
      --defaults-file=*/my.cnf) realpath -m "$(dirname "${args[$i]#--defaults-file=}")"; return 0 ;;
      -home) realpath -m "${args[$((i + 1))]:-}"; return 0 ;;
    esac
  done
  case "${args[0]:-}" in
    epmd|*/epmd) { tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true; } | sed -n 's/^HOME=//p' | xargs -r -n 1 realpath -m ;;
  esac
  return 0
}

# Whether process $1 is alive and a server of this script running from folder $2 (a pid file can
# outlive its process, and the pid be reused by anything).
ours() { alive "$1" && [ "$(folder_of "$1")" = "$2" ]; }

# Whether process $1 listens on TCP port $2.
listens_on() { [[ $'\n'"$(listen_ports "$1")"$'\n' == *$'\n'"$2"$'\n'* ]]; }

describe() { echo "pid $1: $({ tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; } | cut -c1-100)"; }

# Stops process $1 (TERM, then KILL after 30 s) and says so as $2.
terminate() {
  local pid="$1"
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do alive "$pid" || break; sleep 0.2; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  log "$2 stopped (pid $pid)"
}

# Stops the servers of folder $1 (or of the default ports' folder $2, where an older copy of this
# script ran every port set) that hold one of the ports that follow. A process that dropped out of
# its pid file (an older copy overwrote it) is found this way too.
stop_port_holders() {
  local dir="$1" legacy="$2" port pid folder
  shift 2
  for port in "$@"; do
    pid="$(port_holder "$port")"
    [ -n "$pid" ] || continue
    folder="$(folder_of "$pid")"
    if [ "$folder" = "$dir" ]; then
      terminate "$pid" "$(basename "$folder") process on port $port"
    elif [ "$folder" = "$legacy" ]; then
      terminate "$pid" "$(basename "$folder") process on port $port, left by an older servers.sh in ${legacy#"$root"/},"
    fi
  done
}

# Fails when port $1, wanted by $2, is taken by another process.
require_free() {
  local pid
  pid="$(port_holder "$1")"
  [ -z "$pid" ] && return 0
  log "$2 cannot start: port $1 is in use ($(describe "$pid"))"
  return 1
}

# One install step for every server this script runs: `install_missing` for the project's own
# (MariaDB, RabbitMQ, Redis), `install_missing peers` for the benchmark's (Redis and PostgreSQL).
install_missing() {
  local wanted=()
  if [ "${1:-}" = peers ]; then
    [ -n "$peer_postgres_bin" ] && [ -x "$peer_postgres_bin/initdb" ] || wanted+=(postgresql)
  else
    command -v ss >/dev/null 2>&1 || wanted+=(iproute2)
    command -v mariadbd >/dev/null 2>&1 || wanted+=(mariadb-server mariadb-client)
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || wanted+=(rabbitmq-server)
  fi
  command -v redis-server >/dev/null 2>&1 || wanted+=(redis-server)
  [ ${#wanted[@]} -eq 0 ] && return 0
  log "installing ${wanted[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
  peer_postgres_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
}

# --- MariaDB -----------------------------------------------------------------------------

maria_cnf() {
  cat >"$maria_dir/my.cnf" <<EOF
[mysqld]
user=root
datadir=$maria_dir/data
socket=$maria_dir/mysqld.sock
pid-file=$maria_dir/mysqld.pid
log-error=$maria_dir/error.log
bind-address=127.0.0.1
port=$mysql_port
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
max_connections=500
innodb_buffer_pool_size=512M
innodb_flush_log_at_trx_commit=2
skip-name-resolve

[client]
socket=$maria_dir/mysqld.sock
default-character-set=utf8mb4
EOF
}

maria_admin() { mariadb-admin --defaults-file="$maria_dir/my.cnf" "$@"; }
maria_sql() { mariadb --defaults-file="$maria_dir/my.cnf" -uroot "$@"; }

# Creates (or brings up to date) the database and the two users; safe to run again. Databases named
# finstage* are covered, as tests and the benchmark use databases of their own.
maria_users() {
  local who host
  {
    echo "CREATE DATABASE IF NOT EXISTS \`$db_name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    # The single all-privileges user of earlier versions of this script.
    echo "DROP USER IF EXISTS 'finstage'@'127.0.0.1', 'finstage'@'localhost';"
    for host in 127.0.0.1 localhost; do
      for who in "$migrator_user:$migrator_password" "$runtime_user:$runtime_password"; do
        echo "CREATE USER IF NOT EXISTS '${who%%:*}'@'$host' IDENTIFIED BY '${who#*:}';"
        echo "ALTER USER '${who%%:*}'@'$host' IDENTIFIED BY '${who#*:}';"
        # Exactly the rights below, whatever was granted by hand since.
        echo "REVOKE ALL PRIVILEGES, GRANT OPTION FROM '${who%%:*}'@'$host';"
      done
      # Schema changes (EF Core and Pomelo migrations, Hangfire's tables) and test set-up (DROP/CREATE DATABASE, TRUNCATE).
      echo "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EXECUTE, TRIGGER, LOCK TABLES, CREATE TEMPORARY TABLES ON \`finstage%\`.* TO '$migrator_user'@'$host';"
      # Rows only; GET_LOCK (Hangfire's locks) and information_schema need no grant.
      echo "GRANT SELECT, INSERT, UPDATE, DELETE ON \`finstage%\`.* TO '$runtime_user'@'$host';"
    done
  } | maria_sql
}

start_mariadb() {
  local pid
  mkdir -p "$maria_dir"
  pid="$(pid_from "$maria_dir/mysqld.pid")"
  if ours "$pid" "$maria_dir" && listens_on "$pid" "$mysql_port" && maria_admin ping >/dev/null 2>&1; then
    log "MariaDB already running on 127.0.0.1:$mysql_port (pid $pid, $maria_dir)"
    maria_users
    return 0
  fi
  # Servers of this folder, or of the shared folder of older copies of this script, that are not
  # what this set needs (another port, or not answering).
  ours "$pid" "$maria_dir" && terminate "$pid" "MariaDB of $maria_dir on port(s) $(listen_ports "$pid" | paste -sd, -), not $mysql_port,"
  stop_port_holders "$maria_dir" "$legacy_maria_dir" "$mysql_port"
  require_free "$mysql_port" MariaDB
  maria_cnf
  if [ ! -d "$maria_dir/data/mysql" ]; then
    rm -rf "$maria_dir/data"
    mariadb-install-db --defaults-file="$maria_dir/my.cnf" \
      --auth-root-authentication-method=socket --skip-test-db >"$maria_dir/install.log" 2>&1
  fi
  # setsid: the server must outlive this script and not receive its terminal's signals.
  rm -f "$maria_dir/mysqld.pid"
  setsid mariadbd --defaults-file="$maria_dir/my.cnf" >>"$maria_dir/stdout.log" 2>&1 < /dev/null &
  local started=$! deadline=$((SECONDS + 60))
  until maria_admin ping >/dev/null 2>&1; do
    if ! alive "$started" || [ $SECONDS -ge $deadline ]; then
      log "MariaDB did not answer within 60 s or exited; last lines of its log:"
      tail -n 20 "$maria_dir/error.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  maria_users
  log "MariaDB ready on 127.0.0.1:$mysql_port (pid $(pid_from "$maria_dir/mysqld.pid"))"
}

stop_mariadb() {
  local pid
  pid="$(pid_from "$maria_dir/mysqld.pid")"
  if ours "$pid" "$maria_dir"; then terminate "$pid" MariaDB; fi
  stop_port_holders "$maria_dir" "$legacy_maria_dir" "$mysql_port"
}

# --- RabbitMQ ----------------------------------------------------------------------------

rabbit_env() {
  export HOME="$rabbit_dir"
  export RABBITMQ_NODENAME="$rabbit_node"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$amqp_port"
  export RABBITMQ_DIST_PORT="$dist_port"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_EPMD_PORT="$epmd_port"
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_MNESIA_BASE="$rabbit_dir/mnesia"
  export RABBITMQ_LOG_BASE="$rabbit_dir/log"
  export RABBITMQ_PID_FILE="$rabbit_dir/rabbitmq.pid"
  export RABBITMQ_CONFIG_FILE="$rabbit_dir/rabbitmq.conf"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$rabbit_dir/enabled_plugins"
  export RABBITMQ_CONF_ENV_FILE="$rabbit_dir/rabbitmq-env.conf"
}

rabbitmqctl_() { /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }

start_rabbitmq() {
  local pid port
  mkdir -p "$rabbit_dir/log" "$rabbit_dir/mnesia"
  rabbit_env
  pid="$(pid_from "$RABBITMQ_PID_FILE")"
  if ours "$pid" "$rabbit_dir" && listens_on "$pid" "$amqp_port" && rabbitmqctl_ -q await_startup --timeout 5 >/dev/null 2>&1; then
    # A broker started by an older copy of this script lacks the shovel plug-ins scripts/redrive.sh needs.
    if ! grep -q rabbitmq_shovel_management "$RABBITMQ_ENABLED_PLUGINS_FILE" 2>/dev/null; then
      /usr/lib/rabbitmq/bin/rabbitmq-plugins -q enable rabbitmq_shovel rabbitmq_shovel_management >/dev/null
      log "RabbitMQ: shovel plug-ins enabled"
    fi
    log "RabbitMQ already running on 127.0.0.1:$amqp_port (pid $pid, $rabbit_dir)"
    return 0
  fi
  # As for MariaDB: what runs from this folder but not as this set, and what an older copy of this
  # script left on these ports, goes first.
  if ours "$pid" "$rabbit_dir"; then
    terminate "$pid" "RabbitMQ of $rabbit_dir on port(s) $(listen_ports "$pid" | paste -sd, -), not $amqp_port,"
  fi
  stop_port_holders "$rabbit_dir" "$legacy_rabbit_dir" "$amqp_port" "$mgmt_port" "$dist_port"
  for port in "$amqp_port" "$mgmt_port" "$dist_port"; do require_free "$port" RabbitMQ; done
  # The epmd of this folder may stay; one of the shared folder on this set's port may not.
  ours "$(port_holder "$epmd_port")" "$rabbit_dir" || stop_port_holders "$rabbit_dir" "$legacy_rabbit_dir" "$epmd_port"
  cat >"$RABBITMQ_CONFIG_FILE" <<EOF
listeners.tcp.default = 127.0.0.1:$amqp_port
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt_port
loopback_users.guest = true
EOF
  # Settings and plug-ins (management, and shovel for scripts/redrive.sh) shared with docker-compose.yml.
  cat "$root/scripts/rabbitmq/finstage.conf" >>"$RABBITMQ_CONFIG_FILE"
  cp "$root/scripts/rabbitmq/enabled_plugins" "$RABBITMQ_ENABLED_PLUGINS_FILE"
  : >"$RABBITMQ_CONF_ENV_FILE"
  # Our own epmd, in the foreground of its own session, so that we know its pid.
  if ! ours "$(pid_from "$rabbit_dir/epmd.pid")" "$rabbit_dir"; then
    require_free "$epmd_port" epmd
    setsid epmd -address 127.0.0.1 -port "$epmd_port" >"$rabbit_dir/log/epmd.log" 2>&1 < /dev/null &
    echo $! >"$rabbit_dir/epmd.pid"
  fi
  rm -f "$RABBITMQ_PID_FILE"
  setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$rabbit_dir/log/stdout.log" 2>&1 < /dev/null &
  local started=$! deadline=$((SECONDS + 90))
  until [ -s "$RABBITMQ_PID_FILE" ] && rabbitmqctl_ -q await_startup --timeout 10 >/dev/null 2>&1; do
    if ! alive "$started" || [ $SECONDS -ge $deadline ]; then
      log "RabbitMQ did not start within 90 s or exited; last lines of its log:"
      tail -n 30 "$rabbit_dir/log/stdout.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  until curl -fsS -u guest:guest "http://127.0.0.1:$mgmt_port/api/overview" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "RabbitMQ management API did not answer within 90 s"
      return 1
    fi
    sleep 0.5
  done
  log "RabbitMQ ready on 127.0.0.1:$amqp_port, management on http://127.0.0.1:$mgmt_port (pid $(pid_from "$RABBITMQ_PID_FILE"))"
}

stop_rabbitmq() {
  rabbit_env
  local pid epmd
  pid="$(pid_from "$RABBITMQ_PID_FILE")"
  if ours "$pid" "$rabbit_dir"; then terminate "$pid" RabbitMQ; fi
  epmd="$(pid_from "$rabbit_dir/epmd.pid")"
  if ours "$epmd" "$rabbit_dir"; then terminate "$epmd" epmd; fi
  rm -f "$rabbit_dir/epmd.pid"
  stop_port_holders "$rabbit_dir" "$legacy_rabbit_dir" "${rabbit_ports[@]}"
}

# --- Redis --------------------------------------------------------------------------------

redis_dir="$base/redis-$redis_port"

# redis-server rewrites its command line, so a server of this set is recognised by its working
# folder, which it changes to its `dir`.
redis_ours() { alive "$1" && [ "$(realpath -m "$(readlink "/proc/$1/cwd" 2>/dev/null || true)")" = "$redis_dir" ]; }

start_redis() {
  local pid
  mkdir -p "$redis_dir"
  pid="$(pid_from "$redis_dir/redis.pid")"
  if redis_ours "$pid" && listens_on "$pid" "$redis_port" && redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "Redis already running on 127.0.0.1:$redis_port (pid $pid, $redis_dir)"
    return 0
  fi
  if redis_ours "$pid"; then terminate "$pid" "Redis of $redis_dir not answering on port $redis_port,"; fi
  require_free "$redis_port" Redis
  printf '%s\n' "bind 127.0.0.1" "port $redis_port" "dir $redis_dir" "pidfile $redis_dir/redis.pid" \
    "logfile $redis_dir/redis.log" "daemonize no" 'save ""' "appendonly no" >"$redis_dir/redis.conf"
  rm -f "$redis_dir/redis.pid"
  setsid redis-server "$redis_dir/redis.conf" >>"$redis_dir/stdout.log" 2>&1 < /dev/null &
  local started=$! deadline=$((SECONDS + 30))
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do
    if ! alive "$started" || [ $SECONDS -ge $deadline ]; then
      log "Redis did not answer within 30 s or exited; last lines of its log:"
      tail -n 20 "$redis_dir/redis.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "Redis ready on 127.0.0.1:$redis_port (pid $(pid_from "$redis_dir/redis.pid"))"
}

stop_redis() {
  local pid
  pid="$(pid_from "$redis_dir/redis.pid")"
  if redis_ours "$pid"; then terminate "$pid" Redis; fi
  pid="$(port_holder "$redis_port")"
  if [ -n "$pid" ] && redis_ours "$pid"; then terminate "$pid" "Redis on port $redis_port"; fi
}

redis_status() {
  local pid holder
  pid="$(pid_from "$redis_dir/redis.pid")"
  if redis_ours "$pid" && listens_on "$pid" "$redis_port"; then
    echo "redis: running (pid $pid, port $redis_port, ${redis_dir#"$root"/})"
  elif holder="$(port_holder "$redis_port")" && [ -n "$holder" ]; then
    echo "redis: stopped (port $redis_port in use by $(describe "$holder"))"
  else
    echo "redis: stopped"
  fi
}

# PostgreSQL refuses to run as root: its folder belongs to the postgres user, which runs it.
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local data="$peer_postgres_dir/data"
  mkdir -p "$peer_postgres_dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$peer_postgres_dir"
  if [ ! -s "$data/PG_VERSION" ]; then
    rm -rf "$data"
    printf '%s\n' "$peer_postgres_password" >"$peer_postgres_dir/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$peer_postgres_dir/pwfile"
    as_postgres "$peer_postgres_bin/initdb" -D "$data" -U "$peer_postgres_user" --pwfile="$peer_postgres_dir/pwfile" \
      --auth=scram-sha-256 -E UTF8 >"$peer_postgres_dir/initdb.log" 2>&1
    rm -f "$peer_postgres_dir/pwfile"
  fi
  if as_postgres "$peer_postgres_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$peer_postgres_port ($data)"
    return 0
  fi
  require_free "$peer_postgres_port" PostgreSQL
  as_postgres "$peer_postgres_bin/pg_ctl" -D "$data" -l "$peer_postgres_dir/postgres.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -c port=$peer_postgres_port -c unix_socket_directories=$peer_postgres_dir -c synchronous_commit=off -c max_connections=200 -c shared_buffers=256MB" >/dev/null
  PGPASSWORD="$peer_postgres_password" "$peer_postgres_bin/psql" -h 127.0.0.1 -p "$peer_postgres_port" -U "$peer_postgres_user" -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = 'finstage_bench'" | grep -q 1 ||
    PGPASSWORD="$peer_postgres_password" "$peer_postgres_bin/createdb" -h 127.0.0.1 -p "$peer_postgres_port" -U "$peer_postgres_user" finstage_bench
  log "PostgreSQL ready on 127.0.0.1:$peer_postgres_port ($data)"
}

stop_postgres() {
  local data="$peer_postgres_dir/data"
  [ -s "$data/PG_VERSION" ] || return 0
  if as_postgres "$peer_postgres_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_postgres "$peer_postgres_bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null && log "PostgreSQL stopped ($data)"
  fi
}

print_peers_env() {
  cat <<EOF
export FINSTAGE_REDIS="127.0.0.1:$redis_port"
export FINSTAGE_POSTGRES="Host=127.0.0.1;Port=$peer_postgres_port;Database=finstage_bench;Username=$peer_postgres_user;Password=$peer_postgres_password"
EOF
}

# One line per server: `<name>: running (pid, ports, folder)` only when the server of this set's
# folder answers on this set's port; ./test.sh, ./run.sh, ./bench.sh and the fault tests read it.
status_line() {
  local name="$1" dir="$2" legacy="$3" pid="$4" port="$5" ports="$6" holder
  if ours "$pid" "$dir" && listens_on "$pid" "$port"; then
    echo "$name: running (pid $pid, $ports, ${dir#"$root"/})"
  elif ours "$pid" "$dir"; then
    echo "$name: not on port $port (pid $pid of ${dir#"$root"/} listens on: $(listen_ports "$pid" | paste -sd, -); start or stop sets it right)"
  elif holder="$(port_holder "$port")" && [ -n "$holder" ] && [ "$(folder_of "$holder")" = "$legacy" ]; then
    echo "$name: stopped (port $port held by pid $holder of ${legacy#"$root"/}, left by an older servers.sh; start or stop clears it)"
  elif [ -n "$holder" ]; then
    echo "$name: stopped (port $port in use by $(describe "$holder"))"
  else
    echo "$name: stopped"
  fi
}

print_env() {
  cat <<EOF
export ConnectionStrings__Storage="Server=127.0.0.1;Port=$mysql_port;Database=$db_name;User ID=$runtime_user;Password=$runtime_password"
export ConnectionStrings__Hangfire="Server=127.0.0.1;Port=$mysql_port;Database=$db_name;User ID=$runtime_user;Password=$runtime_password"
export ConnectionStrings__StorageMigrations="Server=127.0.0.1;Port=$mysql_port;Database=$db_name;User ID=$migrator_user;Password=$migrator_password"
export ConnectionStrings__HangfireMigrations="Server=127.0.0.1;Port=$mysql_port;Database=$db_name;User ID=$migrator_user;Password=$migrator_password"
export ConnectionStrings__RabbitMq="amqp://guest:guest@127.0.0.1:$amqp_port/"
export FINSTAGE_MYSQL_ADMIN="Server=127.0.0.1;Port=$mysql_port;User ID=$migrator_user;Password=$migrator_password"
export FINSTAGE_MYSQL_RUNTIME="Server=127.0.0.1;Port=$mysql_port;User ID=$runtime_user;Password=$runtime_password"
export FINSTAGE_RABBITMQ_MANAGEMENT="http://127.0.0.1:$mgmt_port"
export FINSTAGE_REDIS="127.0.0.1:$redis_port"
EOF
}

only="${2:-}"
case "$only" in
  ""|mariadb|rabbitmq|redis) ;;
  peers|postgres)
    # The benchmark's peers (Redis, which the crawlers use too, and PostgreSQL), self-contained.
    case "${1:-start}" in
      start)
        install_missing peers
        [ "$only" = postgres ] || start_redis
        start_postgres
        print_peers_env
        ;;
      stop)
        [ "$only" = postgres ] || stop_redis
        stop_postgres
        ;;
      env) print_peers_env ;;
      *) echo "usage: $0 start|stop|env peers|postgres" >&2; exit 2 ;;
    esac
    exit 0
    ;;
  *) echo "usage: $0 start|stop [mariadb|rabbitmq|redis|peers|postgres]" >&2; exit 2 ;;
esac

case "${1:-start}" in
  start)
    command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
    install_missing
    case "$only" in ""|mariadb) start_mariadb ;; esac
    case "$only" in ""|rabbitmq) start_rabbitmq ;; esac
    case "$only" in ""|redis) start_redis ;; esac
    print_env
    ;;
  stop)
    case "$only" in ""|redis) stop_redis ;; esac
    case "$only" in ""|rabbitmq) stop_rabbitmq ;; esac
    case "$only" in ""|mariadb) stop_mariadb ;; esac
    ;;
  status)
    rabbit_env
    status_line mariadb "$maria_dir" "$legacy_maria_dir" "$(pid_from "$maria_dir/mysqld.pid")" "$mysql_port" "port $mysql_port"
    status_line rabbitmq "$rabbit_dir" "$legacy_rabbit_dir" "$(pid_from "$RABBITMQ_PID_FILE")" "$amqp_port" \
      "AMQP port $amqp_port, management port $mgmt_port"
    redis_status
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
