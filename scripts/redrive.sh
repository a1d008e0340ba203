#!/usr/bin/env bash
# Moves every message in a queue's error queue (<queue>_error, where MassTransit parks what failed)
# back into <queue>, once the cause of the failures is fixed, and waits until it is done.
#
#   scripts/redrive.sh <queue> [vhost]        e.g. scripts/redrive.sh store-news-crawled
#
# It creates a dynamic shovel (RabbitMQ's shovel plug-in, enabled by scripts/servers.sh and
# docker-compose.yml) that moves as many messages as the error queue holds when the shovel starts,
# confirming each one before removing it, and then deletes itself. A message that fails again goes
# back to the error queue and stays there: there is no loop. Headers are kept, so MT-Fault-* still
# say why a message failed the last time. The management UI's "Move messages" does the same by hand.
#
# Settings from the environment (defaults in brackets):
#   FINSTAGE_RABBITMQ_MANAGEMENT  the management API [http://127.0.0.1:15672] (scripts/servers.sh env prints it)
#   FINSTAGE_RABBITMQ_USER / FINSTAGE_RABBITMQ_PASSWORD  [guest / guest]
#   FINSTAGE_REDRIVE_TIMEOUT      seconds to wait for the move [300]
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 <queue> [vhost]   moves <queue>_error back into <queue>" >&2
  exit 2
fi
queue="$1"
vhost="${2:-/}"
api="${FINSTAGE_RABBITMQ_MANAGEMENT:-http://127.0.0.1:15672}"
credentials="${FINSTAGE_RABBITMQ_USER:-guest}:${FINSTAGE_RABBITMQ_PASSWORD:-guest}"
timeout="${FINSTAGE_REDRIVE_TIMEOUT:-300}"
source_queue="${queue}_error"

# Queue names go into JSON and URLs unescaped: MassTransit's are letters, digits and - _ . :
if ! [[ "$queue" =~ ^[A-Za-z0-9._:-]+$ ]]; then
  echo "redrive: '$queue' is not a queue name this script handles (letters, digits, - _ . : only)" >&2
  exit 2
fi

urlencode() {
  local LC_ALL=C text="$1" out="" char i
  for ((i = 0; i < ${#text}; i++)); do
    char="${text:i:1}"
    case "$char" in
      [A-Za-z0-9._~-]) out+="$char" ;;
      *) out+="$(printf '%%%02X' "'$char")" ;;
    esac
  done
  printf '%s' "$out"
}

json_string() {
  local text="${1//\\/\\\\}"
  printf '"%s"' "${text//\"/\\\"}"
}

vhost_path="$(urlencode "$vhost")"

# Prints the HTTP status of a management API call; its body goes to $body_file.
body_file="$(mktemp)"
trap 'rm -f "$body_file"' EXIT
call() {
  local method="$1" path="$2" data="${3:-}"
  local args=(-sS -o "$body_file" -w '%{http_code}' -u "$credentials" -X "$method" "$api/api/$path")
  [ -n "$data" ] && args+=(-H 'content-type: application/json' --data "$data")
  curl "${args[@]}" || echo 000
}

for name in "$queue" "$source_queue"; do
  status="$(call GET "queues/$vhost_path/$name")"
  case "$status" in
    200) ;;
    404) echo "redrive: no queue '$name' in virtual host '$vhost'" >&2; exit 1 ;;
    *) echo "redrive: the management API at $api answered $status for queue '$name': $(cat "$body_file")" >&2; exit 1 ;;
  esac
done

shovel="redrive-$queue-$(date +%s)-$$"
# amqp:// without a host is the local node itself; the shovel takes the queue length at its start.
uri="$(json_string "amqp:///$vhost_path")"
definition="{\"value\":{\"src-protocol\":\"amqp091\",\"src-uri\":$uri,\"src-queue\":\"$source_queue\",\
\"src-delete-after\":\"queue-length\",\"dest-protocol\":\"amqp091\",\"dest-uri\":$uri,\"dest-queue\":\"$queue\",\
\"ack-mode\":\"on-confirm\"}}"
status="$(call PUT "parameters/shovel/$vhost_path/$shovel" "$definition")"
if [ "$status" != 201 ] && [ "$status" != 204 ]; then
  echo "redrive: RabbitMQ refused the shovel ($status): $(cat "$body_file")" >&2
  echo "redrive: are the rabbitmq_shovel and rabbitmq_shovel_management plug-ins enabled?" >&2
  exit 1
fi
echo "redrive: moving $source_queue back into $queue (virtual host '$vhost', shovel $shovel)"

# The shovel deletes its own definition once it has moved what was there.
deadline=$((SECONDS + timeout))
while :; do
  status="$(call GET "parameters/shovel/$vhost_path/$shovel")"
  [ "$status" = 404 ] && break
  if [ "$(call GET "shovels/$vhost_path/$shovel")" = 200 ] && grep -q '"state":"terminated"' "$body_file"; then
    echo "redrive: the shovel stopped with an error: $(cat "$body_file")" >&2
    call DELETE "parameters/shovel/$vhost_path/$shovel" >/dev/null
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "redrive: not done after $timeout s; the shovel $shovel is left running (see the management UI, Admin > Shovel Status)" >&2
    exit 1
  fi
  sleep 0.5
done
echo "redrive: done; every message that was in $source_queue is back in $queue"
