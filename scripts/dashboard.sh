#!/usr/bin/env bash
# Runs the standalone Aspire dashboard: an OTLP receiver (gRPC and HTTP) with a web UI for the
# traces, metrics and structured logs the services send, and its HTTP API (/api/telemetry/*).
# The program comes in the NuGet package Aspire.Dashboard.Sdk.linux-x64, restored like any package
# by tools/Finstage.Dashboard (no download of its own). ./run.sh starts it; so does the test that
# reads a crawl's trace back from it (DashboardTraceTests).
#
#   scripts/dashboard.sh          runs in the foreground until stopped (SIGTERM / Ctrl-C)
#
# Settings (all on loopback; another host is refused, see below):
#   FINSTAGE_DASHBOARD_URL             UI and API      (http://127.0.0.1:18888)
#   FINSTAGE_DASHBOARD_OTLP_GRPC_URL   OTLP over gRPC  (http://127.0.0.1:18889): the services' OTEL_EXPORTER_OTLP_ENDPOINT
#   FINSTAGE_DASHBOARD_OTLP_HTTP_URL   OTLP over HTTP  (http://127.0.0.1:18890)
#
# UI, OTLP receiver and API run unsecured (no browser token, no API key): any process on this
# machine may send telemetry and read it. That is why every address must be loopback; see
# docs/decisions/0020-trace-viewer.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ui="${FINSTAGE_DASHBOARD_URL:-http://127.0.0.1:18888}"
otlp_grpc="${FINSTAGE_DASHBOARD_OTLP_GRPC_URL:-http://127.0.0.1:18889}"
otlp_http="${FINSTAGE_DASHBOARD_OTLP_HTTP_URL:-http://127.0.0.1:18890}"
project="$root/tools/Finstage.Dashboard/Finstage.Dashboard.csproj"

fail() { echo "[dashboard] $*" >&2; exit 1; }

for url in "$ui" "$otlp_grpc" "$otlp_http"; do
  case "$url" in
    http://127.*:[0-9]*|http://localhost:[0-9]*|http://\[::1\]:[0-9]*) ;;
    *) fail "$url: the dashboard runs unsecured, so only on a loopback address with a port (http://127.0.0.1:PORT)" ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The package's own build props name the program (AspireDashboardPath); they exist once it is restored.
dashboard="$(dotnet msbuild "$project" -nologo -getProperty:AspireDashboardPath 2>/dev/null || true)"
if [ ! -x "$dashboard" ]; then
  dotnet restore "$project" -nologo -v quiet >&2 || fail "dotnet restore $project failed"
  dashboard="$(dotnet msbuild "$project" -nologo -getProperty:AspireDashboardPath)"
fi
[ -x "$dashboard" ] || fail "the Aspire dashboard is not at '$dashboard' after restoring $project"

# Settings the caller's environment might carry for other ASP.NET Core programs must not move it.
unset Urls ASPNETCORE_HTTP_PORTS ASPNETCORE_HTTPS_PORTS
export ASPNETCORE_URLS="$ui"
export ASPNETCORE_ENVIRONMENT=Production
export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="$otlp_grpc"
export ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL="$otlp_http"
export Dashboard__Frontend__AuthMode=Unsecured
export Dashboard__Otlp__AuthMode=Unsecured
export Dashboard__Api__AuthMode=Unsecured
# exec: the caller's pid is the dashboard's, so stopping that pid stops the dashboard.
exec "$dashboard"
