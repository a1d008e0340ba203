#!/usr/bin/env bash
# Makes sure Debian's headless Chromium, its matching chromedriver and a font are installed (with
# apt-get, where missing), then prints where they are as shell exports:
#
#   eval "$(scripts/chromium.sh)"     sets FINSTAGE_CHROMIUM and FINSTAGE_CHROMEDRIVER
#
# The dashboard's browser test (tests/Finstage.Scheduler.Tests) drives them through WebDriver, and
# scripts/screenshots.sh takes its pictures with them. Nothing is ever downloaded but Debian packages:
# chromedriver comes from the same source package as chromium, so their versions always match.
set -euo pipefail

log() { echo "[chromium] $*" >&2; }

find_chromium() { command -v chromium || command -v chromium-browser || true; }
find_driver() { command -v chromedriver || { [ -x /usr/lib/chromium/chromedriver ] && echo /usr/lib/chromium/chromedriver; } || true; }

wanted=()
[ -n "$(find_chromium)" ] || wanted+=(chromium)
[ -n "$(find_driver)" ] || wanted+=(chromium-driver)
# Debian's chromium depends on no font; without one every letter is a blank box.
[ -d /usr/share/fonts/truetype/dejavu ] || wanted+=(fonts-dejavu-core)
if [ ${#wanted[@]} -gt 0 ]; then
  log "installing ${wanted[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  # The package lists may be absent (fresh image) or stale: read them first.
  "${sudo_cmd[@]}" apt-get update -qq >&2
  # Another apt-get (a parallel set-up) may hold the lock for a while: wait for it rather than fail.
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${wanted[@]}" >&2 \
    || { log "apt-get could not install ${wanted[*]}"; exit 1; }
fi

browser="$(find_chromium)"
driver="$(find_driver)"
[ -n "$browser" ] || { log "chromium is installed but not on PATH"; exit 1; }
[ -n "$driver" ] || { log "chromium-driver is installed but chromedriver is not on PATH"; exit 1; }
log "using $("$browser" --version 2>/dev/null || echo "$browser") and $("$driver" --version 2>/dev/null | head -n 1 || echo "$driver")"
printf 'export FINSTAGE_CHROMIUM=%q\nexport FINSTAGE_CHROMEDRIVER=%q\n' "$browser" "$driver"
