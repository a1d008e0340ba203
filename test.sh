#!/usr/bin/env bash
# Runs every Finstage test against real RabbitMQ and MariaDB (started here when they are not
# running, and stopped again afterwards), then the offline smoke test and the docker-compose check.
#   ./test.sh                                    the full run (what CI runs)
#   ./test.sh --fast                             only the tests marked [Trait("Lane", "Fast")]: no
#                                                server started, no smoke or compose check
#   ./test.sh --filter "FullyQualifiedName~X"    extra arguments go to `dotnet test`; the smoke and
#                                                compose checks are skipped unless --with-checks
# The references check runs in every mode. The last line is always `tests: N passed, N failed, N skipped`.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MASSTRANSIT_USAGE_TELEMETRY=false

fast=false with_checks=false filter="" test_args=()
[ $# -eq 0 ] && with_checks=true
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=true ;;
    --with-checks) with_checks=true ;;
    --filter)
      if [ $# -lt 2 ]; then
        echo "test.sh: --filter needs an expression" >&2
        echo "tests: 0 passed, 1 failed"
        exit 2
      fi
      filter="$2"
      shift
      ;;
    *) test_args+=("$1") ;;
  esac
  shift
done
if $fast; then
  # The fixtures that connect to the servers stay unstarted (tests/Finstage.Testing/TestLane.cs).
  export FINSTAGE_TEST_LANE=fast
  filter="Lane=Fast${filter:+&($filter)}"
fi
[ -n "$filter" ] && test_args+=(--filter "$filter")

started_servers=false
if ! $fast; then
  # Leave running what was running before; stop what this run had to start.
  before="$(scripts/servers.sh status)"
  case "$before" in
    *"mariadb: running"*"rabbitmq: running"*"redis: running"*) ;;
    *) started_servers=true ;;
  esac
  if ! server_env="$(scripts/servers.sh start)"; then
    echo "test.sh: the servers did not start (see above)" >&2
    echo "tests: 0 passed, 1 failed"
    exit 1
  fi
  eval "$server_env"

  # The dashboard's browser test drives Debian's headless Chromium (installed here where missing).
  if chromium_env="$(scripts/chromium.sh)"; then
    eval "$chromium_env"
  else
    echo "test.sh: scripts/chromium.sh could not install chromium; the dashboard's browser test will fail" >&2
  fi
fi

results="$root/.local/test-results"
rm -rf "$results"
mkdir -p "$results"

# Build once, then run each test project on its own (its own TRX file, no results overwritten).
# Each test has its own timeout; the hang timeout and the outer timeouts bound the whole run.
status=0
build_target=Finstage.sln
if $fast; then
  # Only the test projects that have a fast class, and what they reference: the benchmarks, the dashboard and the
  # other test projects are not built for an answer the fast lane does not give (a solution filter of them).
  build_target="$root/.local/fast-lane.slnf"
  fast_projects=""
  for project in tests/*/*.Tests.csproj; do
    grep -rqs --include='*.cs' 'Trait("Lane", "Fast")' "$(dirname "$project")" && fast_projects+="${fast_projects:+,}\"$project\""
  done
  mkdir -p "$root/.local"
  printf '{"solution":{"path":"../Finstage.sln","projects":[%s]}}\n' "$fast_projects" >"$build_target"
fi
if ! timeout -k 30 1200 dotnet build "$build_target" -nologo -v quiet; then
  status=1
else
  for project in tests/*/*.Tests.csproj; do
    name="$(basename "$project" .csproj)"
    # A project with no fast class would only start (and, for an assembly fixture, connect) for nothing.
    if $fast && ! grep -rqs --include='*.cs' 'Trait("Lane", "Fast")' "$(dirname "$project")"; then
      continue
    fi
    echo "== $name"
    timeout -k 30 1800 dotnet test "$project" --no-build \
      --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" --results-directory "$results" \
      --blame-hang-timeout 10m ${test_args[@]+"${test_args[@]}"} || status=1
  done
fi

# The newcomer's path: ./run.sh --offline shows news in /api/news within a minute.
offline_passed=0 offline_failed=0
if $with_checks; then
  if scripts/offline-smoke.sh; then offline_passed=1; else offline_failed=1; status=1; fi
fi

if $started_servers; then
  scripts/servers.sh stop
fi

# docker-compose.yml is for people with Docker; Debian's docker-compose validates it without an engine.
# Its secrets have no defaults (${VAR:?…}), so it is checked twice: valid with every key of
# .env.example filled with a throwaway value, and refused with none of them set (no .env read).
compose_passed=0 compose_failed=0
if $with_checks; then
  if ! command -v docker-compose >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose) >/dev/null 2>&1 || true
  fi
  compose_env="$(mktemp)" compose_empty="$(mktemp)"
  sed -E "s/^([A-Z_]+)=\$/\1=throwaway-$RANDOM$RANDOM/" .env.example >"$compose_env"
  unset_secrets=()
  for key in $(sed -nE 's/^([A-Z_]+)=.*/\1/p' .env.example); do unset_secrets+=(-u "$key"); done
  if ! command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose.yml: docker-compose could not be installed" >&2
    compose_failed=1
    status=1
  elif ! docker-compose --env-file "$compose_env" -f docker-compose.yml config -q; then
    echo "docker-compose.yml: docker-compose config refused it with .env.example filled in" >&2
    compose_failed=1
    status=1
  elif grep -nE '\$\{[A-Z_]*PASSWORD[A-Z_]*:-[^}]|Password=[^$]|^ *[A-Z_]*(PASSWORD|_PASS): *[^$ ]|://[^:/@]+:[^$@/][^@/]*@' docker-compose.yml >&2; then
    echo "docker-compose.yml: the lines above set a password that does not come from a required variable" >&2
    compose_failed=1
    status=1
  elif env "${unset_secrets[@]}" docker-compose --env-file "$compose_empty" -f docker-compose.yml config -q >/dev/null 2>&1; then
    echo "docker-compose.yml: docker-compose config accepted it without any secret set (a default password?)" >&2
    compose_failed=1
    status=1
  else
    echo "docker-compose.yml: valid, and refused without its secrets"
    compose_passed=1
  fi
  rm -f "$compose_env" "$compose_empty"
fi

# Every relative link in the docs and every repository file a comment or doc cites exists.
references_passed=0 references_failed=0
if scripts/check-references.sh; then references_passed=1; else references_failed=1; status=1; fi

passed=$((compose_passed + offline_passed + references_passed)) failed=$((compose_failed + offline_failed + references_failed)) skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  count() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(count passed)))
  failed=$((failed + $(count failed) + $(count error) + $(count timeout) + $(count aborted)))
  # xunit's skipped tests are counted in total but not in executed.
  skipped=$((skipped + $(count total) - $(count executed)))
done
# CI keeps only the end of this output, so the failed tests are named again here, each with the first lines of its
# message (the whole message and stack trace are in the console output above and in the TRX file).
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  awk -v project="$(basename "$trx" .trx)" '
    /<UnitTestResult / { name = ""; failed = 0 }
    /<UnitTestResult .*outcome="(Failed|Error|Timeout|Aborted)"/ {
      failed = 1
      if (match($0, /testName="[^"]*"/)) name = substr($0, RSTART + 10, RLENGTH - 11)
      printf "failed: %s: %s\n", project, name
      lines = 0
    }
    failed && /<Message>/ { inmessage = 1; sub(/.*<Message>/, "") }
    failed && inmessage {
      done = sub(/<\/Message>.*/, "")
      if (lines < 6) { print "    " $0; lines++ }
      if (done) { inmessage = 0; failed = 0 }
    }
  ' "$trx" | sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
done
# A build failure or a crashed run produces no results: that is a failure, not an empty pass.
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  failed=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
