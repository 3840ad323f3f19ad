#!/usr/bin/env bash
# Installs what the tests need (Debian packages and npm dependencies) and runs every test:
# type check, lint, unit tests, and end-to-end tests against real daemons. Every step runs even
# when an earlier one failed, so one broken area does not hide the state of the others.
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter postgresql openssh-server)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[test] installing Debian packages: ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=300 update -qq || exit 1
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || exit 1
fi

echo "[test] npm ci"
npm ci --no-audit --no-fund --loglevel=error || exit 1

failed=()
step() {
  local name=$1
  shift
  echo "[test] $name"
  "$@" || failed+=("$name")
}
step "type check" npm run --silent typecheck
step "lint" npx biome ci --reporter=summary .
step "vitest" npx vitest run

if [ ${#failed[@]} -gt 0 ]; then
  echo "[test] FAILED: ${failed[*]}"
  exit 1
fi
echo "[test] all steps passed"
