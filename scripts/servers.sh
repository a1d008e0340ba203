#!/usr/bin/env bash
# Starts (and stops) the real RabbitMQ and MariaDB that Finstage's tests and ./run.sh use:
# Debian packages, bound to 127.0.0.1, data under .local/servers (git-ignored).
#
#   scripts/servers.sh start    install where missing, start, wait until ready, print settings
#   scripts/servers.sh stop     stop exactly the processes this script started (by pid)
#   scripts/servers.sh status   say what is running
#   scripts/servers.sh env      print the connection settings as shell exports
#
# `start` and `stop` take an optional server, `mariadb` or `rabbitmq`, to start or stop only that
# one (the reliability tests stop a server mid-run and start it again with its data intact).
#
# RabbitMQ runs with the management and shovel plug-ins (scripts/redrive.sh moves _error queues back).
# Running `start` twice is safe: a server that already answers is left alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${FINSTAGE_SERVERS_DIR:-$root/.local/servers}"
mysql_port="${FINSTAGE_MYSQL_PORT:-3306}"
amqp_port="${FINSTAGE_AMQP_PORT:-5672}"
mgmt_port="${FINSTAGE_RABBITMQ_MANAGEMENT_PORT:-15672}"
dist_port="${FINSTAGE_RABBITMQ_DIST_PORT:-25672}"
epmd_port="${FINSTAGE_EPMD_PORT:-4369}"
db_name="finstage"
# Two users, both bound to 127.0.0.1/localhost, so their fixed passwords work nowhere else:
# the migrator changes the schema (the services' `migrate` step, test set-up), the runtime user
# only reads and writes rows (the running services). See docs/reliability.md, Security.
migrator_user="finstage_migrator"
migrator_password="finstage-migrator-local"
runtime_user="finstage_runtime"
runtime_password="finstage-runtime-local"

rabbit_dir="$base/rabbitmq"
maria_dir="$base/mariadb"
rabbit_node="finstage@localhost"

log() { echo "[servers] $*" >&2; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

pid_from() { [ -s "$1" ] && tr -d '[:space:]' <"$1" || true; }

install_missing() {
  local wanted=()
  command -v mariadbd >/dev/null 2>&1 || wanted+=(mariadb-server mariadb-client)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || wanted+=(rabbitmq-server)
  [ ${#wanted[@]} -eq 0 ] && return 0
  log "installing ${wanted[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
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
  mkdir -p "$maria_dir"
  if alive "$(pid_from "$maria_dir/mysqld.pid")" && maria_admin ping >/dev/null 2>&1; then
    log "MariaDB already running (pid $(pid_from "$maria_dir/mysqld.pid"))"
    maria_users
    return 0
  fi
  maria_cnf
  if [ ! -d "$maria_dir/data/mysql" ]; then
    rm -rf "$maria_dir/data"
    mariadb-install-db --defaults-file="$maria_dir/my.cnf" \
      --auth-root-authentication-method=socket --skip-test-db >"$maria_dir/install.log" 2>&1
  fi
  # setsid: the server must outlive this script and not receive its terminal's signals.
  setsid mariadbd --defaults-file="$maria_dir/my.cnf" >>"$maria_dir/stdout.log" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 60))
  until maria_admin ping >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "MariaDB did not answer within 60 s; last lines of its log:"
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
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do alive "$pid" || break; sleep 0.2; done
    alive "$pid" && kill -KILL "$pid"
    log "MariaDB stopped (pid $pid)"
  fi
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
  mkdir -p "$rabbit_dir/log" "$rabbit_dir/mnesia"
  rabbit_env
  if alive "$(pid_from "$RABBITMQ_PID_FILE")" && rabbitmqctl_ -q await_startup --timeout 5 >/dev/null 2>&1; then
    # A broker started by an older copy of this script lacks the shovel plug-ins scripts/redrive.sh needs.
    if ! grep -q rabbitmq_shovel_management "$RABBITMQ_ENABLED_PLUGINS_FILE" 2>/dev/null; then
      /usr/lib/rabbitmq/bin/rabbitmq-plugins -q enable rabbitmq_shovel rabbitmq_shovel_management >/dev/null
      log "RabbitMQ: shovel plug-ins enabled"
    fi
    log "RabbitMQ already running (pid $(pid_from "$RABBITMQ_PID_FILE"))"
    return 0
  fi
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
  if ! alive "$(pid_from "$rabbit_dir/epmd.pid")"; then
    setsid epmd -address 127.0.0.1 -port "$epmd_port" >"$rabbit_dir/log/epmd.log" 2>&1 < /dev/null &
    echo $! >"$rabbit_dir/epmd.pid"
  fi
  rm -f "$RABBITMQ_PID_FILE"
  setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$rabbit_dir/log/stdout.log" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 90))
  until [ -s "$RABBITMQ_PID_FILE" ] && rabbitmqctl_ -q await_startup --timeout 10 >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "RabbitMQ did not start within 90 s; last lines of its log:"
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
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do alive "$pid" || break; sleep 0.2; done
    alive "$pid" && kill -KILL "$pid"
    log "RabbitMQ stopped (pid $pid)"
  fi
  epmd="$(pid_from "$rabbit_dir/epmd.pid")"
  if alive "$epmd"; then
    kill -TERM "$epmd"
    log "epmd stopped (pid $epmd)"
  fi
  rm -f "$rabbit_dir/epmd.pid"
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
EOF
}

only="${2:-}"
case "$only" in
  ""|mariadb|rabbitmq) ;;
  *) echo "usage: $0 start|stop [mariadb|rabbitmq]" >&2; exit 2 ;;
esac

case "${1:-start}" in
  start)
    command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
    install_missing
    [ "$only" = rabbitmq ] || start_mariadb
    [ "$only" = mariadb ] || start_rabbitmq
    print_env
    ;;
  stop)
    [ "$only" = mariadb ] || stop_rabbitmq
    [ "$only" = rabbitmq ] || stop_mariadb
    ;;
  status)
    rabbit_env
    alive "$(pid_from "$maria_dir/mysqld.pid")" && echo "mariadb: running (pid $(pid_from "$maria_dir/mysqld.pid"))" || echo "mariadb: stopped"
    alive "$(pid_from "$RABBITMQ_PID_FILE")" && echo "rabbitmq: running (pid $(pid_from "$RABBITMQ_PID_FILE"))" || echo "rabbitmq: stopped"
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2
    exit 2
    ;;
esac
