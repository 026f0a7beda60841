#!/usr/bin/env bash
# Installs what the test suite needs from the system when it is missing (CI machines are
# fresh): the PostgreSQL server binaries, and the `postgres` user that runs them when the tests
# run as root; Chromium for the JavaScript-shop (spa) tests, which never skip; redis-server for
# the distributed tests (Celery's broker), which never skip either. The tests start
# and stop their own servers on loopback.
set -euo pipefail

have_postgres() {
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

apt_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "missing system packages: $*; install them (Debian: apt-get install $*)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

have_chromium() {
  # Same lookup order as crawlers/browser.py::find_chromium.
  if [ -n "${CLICKFARM_CHROMIUM:-}" ]; then
    command -v "$CLICKFARM_CHROMIUM" >/dev/null 2>&1 && return 0
    echo "CLICKFARM_CHROMIUM=$CLICKFARM_CHROMIUM is not an executable" >&2
    exit 1
  fi
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$name" >/dev/null 2>&1 && return 0
  done
  compgen -G "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}/chromium-*/chrome-linux*/chrome" \
    >/dev/null
}

missing=()
if ! have_postgres; then
  echo "PostgreSQL server binaries not found: installing them" >&2
  missing+=(postgresql)
fi
if ! have_chromium; then
  echo "Chromium not found: installing the Debian package chromium" >&2
  missing+=(chromium)
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing the Debian package redis-server" >&2
  missing+=(redis-server)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  # One apt-get update for everything that is missing.
  apt_install "${missing[@]}"
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  # PostgreSQL refuses to run as root; the test fixture runs it as this user.
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi
