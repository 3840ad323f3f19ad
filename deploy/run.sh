#!/usr/bin/env bash
# creditops quick start: installs the project, then runs a collector with embedded defaults (data
# under ./data), an agent for this host enrolled against it and, when their binaries are present,
# Prometheus and Alertmanager with the configurations in deploy/, all on loopback. Ctrl-C stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA=$ROOT/data
mkdir -p "$DATA/logs"

say() { printf '[creditops] %s\n' "$*"; }

if ! command -v node >/dev/null; then
  say "需要 Node.js 20 或更高版本 / Node.js 20+ is required"; exit 1
fi

# npm ci starts from scratch (and builds better-sqlite3), so it runs only when the lock file
# changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "安装依赖 / installing dependencies (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "编译 / building…"
npm run --silent build

CLI=(node "$ROOT/bin/creditops.js")
AGENT_NAME=${CREDITOPS_AGENT_NAME:-$(hostname)}
COLLECTOR_URL=http://127.0.0.1:9470

healthy() { node -e "fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$1"; }

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
on_signal() {
  trap - INT TERM EXIT
  say "正在停止 / stopping…"
  stop_all
  exit 130
}
trap on_signal INT TERM
trap stop_all EXIT

# The agent's token: enrolled once, kept in data/ with mode 0600. A lost token file means a
# new token for the same name.
if [ ! -s "$DATA/agent.token" ]; then
  "${CLI[@]}" agent enroll "$AGENT_NAME" --rotate --token-file "$DATA/agent.token" >/dev/null 2>&1 \
    || { say "本机探针登记失败 / enrolling the agent failed"; "${CLI[@]}" agent enroll "$AGENT_NAME" --rotate --token-file "$DATA/agent.token"; exit 1; }
fi
# Alertmanager authenticates to the collector's webhook with this token.
if [ ! -s "$DATA/alertmanager-webhook.token" ]; then
  (umask 077; node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64url'))" >"$DATA/alertmanager-webhook.token")
fi
if [ ! -f "$DATA/agent.yaml" ]; then
  cat >"$DATA/agent.yaml" <<YAML
# Written by deploy/run.sh; edit freely (reference: README.md, "Configuration").
agent:
  name: $AGENT_NAME
  listen: 127.0.0.1:9471
  dataDir: $DATA/agent
push:
  url: $COLLECTOR_URL
  tokenFile: $DATA/agent.token
  intervalSeconds: 15
YAML
fi

"${CLI[@]}" collector >>"$DATA/logs/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  healthy "$COLLECTOR_URL/healthz" && break
  sleep 0.5
done
healthy "$COLLECTOR_URL/healthz" || { say "采集中心未能启动 / the collector did not start; see $DATA/logs/collector.log"; tail -20 "$DATA/logs/collector.log"; exit 1; }

"${CLI[@]}" agent -c "$DATA/agent.yaml" >>"$DATA/logs/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  healthy "http://127.0.0.1:9471/healthz" && break
  sleep 0.5
done
healthy "http://127.0.0.1:9471/healthz" || { say "本机探针未能启动 / the agent did not start; see $DATA/logs/agent.log"; tail -20 "$DATA/logs/agent.log"; exit 1; }

PROMETHEUS=$(command -v prometheus || true)
ALERTMANAGER=$(command -v alertmanager || command -v prometheus-alertmanager || true)
if [ -n "$PROMETHEUS" ]; then
  "$PROMETHEUS" --config.file="$ROOT/deploy/prometheus.yml" --storage.tsdb.path="$DATA/prometheus" \
    --web.listen-address=127.0.0.1:9090 >>"$DATA/logs/prometheus.log" 2>&1 &
  pids+=($!)
else
  say "未找到 prometheus：apt-get install prometheus 后重新运行即可 / prometheus not found: apt-get install prometheus, then run again"
fi
if [ -n "$ALERTMANAGER" ]; then
  "$ALERTMANAGER" --config.file="$ROOT/deploy/alertmanager.yml" --storage.path="$DATA/alertmanager" \
    --web.listen-address=127.0.0.1:9093 --cluster.listen-address= >>"$DATA/logs/alertmanager.log" 2>&1 &
  pids+=($!)
else
  say "未找到 alertmanager：apt-get install prometheus-alertmanager 后重新运行即可 / alertmanager not found: apt-get install prometheus-alertmanager, then run again"
fi

sleep 2
cat <<MSG

creditops 已运行 / is running (Ctrl-C 停止 / to stop):
  采集中心 collector   $COLLECTOR_URL/            metrics: $COLLECTOR_URL/metrics
  本机探针 agent       http://127.0.0.1:9471/metrics   (host="$AGENT_NAME")
$( [ -n "$PROMETHEUS" ] && echo "  Prometheus          http://127.0.0.1:9090/" )
$( [ -n "$ALERTMANAGER" ] && echo "  Alertmanager        http://127.0.0.1:9093/" )
  日志 logs            $DATA/logs/
MSG

# Stop everything if any one of them dies, and say which.
while true; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "进程 $pid 已退出，详见 $DATA/logs/ / process $pid exited; see $DATA/logs/"
      exit 1
    fi
  done
  sleep 2
done
