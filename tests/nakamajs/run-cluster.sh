#!/usr/bin/env bash
# Runs the nakama-js suite (nakama.test.mjs) through a real load balancer:
# haproxy, round robin over three Warden nodes in cluster mode on one fresh
# PostgreSQL database, so that consecutive requests of one client reach
# different nodes (a session made on one is used, refreshed and logged out
# on the others). Exits with the suite's status, and fails if a node
# served no request.
#
#   WARDEN_TEST_POSTGRES=postgres://... tests/nakamajs/run-cluster.sh
#
# WARDEN_TEST_POSTGRES names a server on which the script may create and
# drop a database (scripts/pg-test-server start prints one). Needs Go,
# Node.js 20, haproxy, psql, and `npm ci --ignore-scripts` run here first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
admin=${WARDEN_TEST_POSTGRES:?set WARDEN_TEST_POSTGRES to a PostgreSQL URL (scripts/pg-test-server start)}
if [ ! -d "$here/node_modules/@heroiclabs/nakama-js" ]; then
  echo "nakamajs: run 'npm ci --ignore-scripts' in $here first" >&2
  exit 1
fi
for c in haproxy psql node; do
  command -v "$c" >/dev/null || { echo "nakamajs: $c is not installed" >&2; exit 1; }
done

tmp=$(mktemp -d)
db="warden_nakamajs_$RANDOM$RANDOM"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null
# The fresh database's URL: the admin URL with its path replaced.
url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$admin" "$db")

# free_port prints a free loopback port.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

(cd "$root" && go build -o "$tmp/warden" ./cmd/server)
suffix=$RANDOM$RANDOM
server_key="nakamajs-server-key-$suffix"
http_key="nakamajs-http-key-$suffix"
keys=(-server-key "$server_key" -http-key "$http_key"
  -encryption-key "nakamajs-encryption-key-$suffix" -refresh-encryption-key "nakamajs-refresh-key-$suffix"
  -console-password "nakamajs-console-$suffix")

ports=()
for n in 1 2 3; do
  port=$(free_port)
  ports+=("$port")
  # Every node has the bundled plugins in its folder; the first to start
  # on the empty database seeds the cluster's plugin store with them.
  "$tmp/warden" -addr "127.0.0.1:$port" -data "$tmp/data$n" -plugins "$root/plugins" -node "n$n" \
    -database "$url" "${keys[@]}" >"$tmp/warden$n.log" 2>&1 &
  pids+=($!)
done
for n in 1 2 3; do
  for _ in $(seq 300); do
    grep -q '"message":"listening"' "$tmp/warden$n.log" && break
    kill -0 "${pids[$((n - 1))]}" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '"message":"listening"' "$tmp/warden$n.log"; then
    echo "nakamajs: node n$n did not start:" >&2
    cat "$tmp/warden$n.log" >&2
    exit 1
  fi
done

lb=$(free_port)
cat >"$tmp/haproxy.cfg" <<CFG
global
  maxconn 256
defaults
  mode http
  retries 3
  option redispatch
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend warden
  bind 127.0.0.1:$lb
  default_backend nodes
backend nodes
  balance roundrobin
  option httpchk GET /healthcheck
  server n1 127.0.0.1:${ports[0]} check inter 1s
  server n2 127.0.0.1:${ports[1]} check inter 1s
  server n3 127.0.0.1:${ports[2]} check inter 1s
CFG
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
pids+=($!)
echo "nakamajs: haproxy at http://127.0.0.1:$lb, round robin over nodes on ports ${ports[*]}"

force=""
if node --test-force-exit -e '' 2>/dev/null; then force=--test-force-exit; fi
status=0
(cd "$here" && NAKAMAJS_URL="http://127.0.0.1:$lb" NAKAMAJS_NODES=3 NAKAMAJS_SERVER_KEY="$server_key" NAKAMAJS_HTTP_KEY="$http_key" \
  node --test $force --test-reporter=spec nakama.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "nakamajs: suite failed ($status) through haproxy; the nodes' logs:" >&2
  for n in 1 2 3; do echo "== n$n" >&2; tail -n 30 "$tmp/warden$n.log" >&2; done
  exit "$status"
fi
# Round robin must have spread the suite's requests over every node.
for n in 1 2 3; do
  count=$(grep -c '"path":"/v2/' "$tmp/warden$n.log" || true)
  echo "nakamajs: node n$n served $count API requests"
  if [ "$count" -eq 0 ]; then
    echo "nakamajs: node n$n served no API request: the load balancer did not spread the suite" >&2
    exit 1
  fi
done
