#!/usr/bin/env bash
# Installs what the tests need (Debian packages and npm dependencies) and runs every test:
# type check, lint, unit tests, and end-to-end tests against real daemons.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(prometheus prometheus-alertmanager prometheus-node-exporter prometheus-postgres-exporter postgresql openssh-server)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[test] installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "[test] npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "[test] type check"
npm run --silent typecheck
echo "[test] lint"
npx biome ci --reporter=summary .
echo "[test] vitest"
npx vitest run
