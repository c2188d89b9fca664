#!/usr/bin/env bash
# Runs the nakama-js suite (nakama.test.mjs) against a freshly built Warden
# with a fresh data directory, and exits with the suite's status.
#
#   (cd tests/nakamajs && npm ci --ignore-scripts) && tests/nakamajs/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ ! -d "$here/node_modules/@heroiclabs/nakama-js" ]; then
  echo "nakamajs: run 'npm ci --ignore-scripts' in $here first" >&2
  exit 1
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/warden" ./cmd/server)
server_key="nakamajs-server-key-$RANDOM$RANDOM"
http_key="nakamajs-http-key-$RANDOM$RANDOM"
# Port 0 picks a free port; the "listening" log line says which.
"$tmp/warden" -addr 127.0.0.1:0 -data "$tmp/data" -plugins "$root/plugins" \
  -server-key "$server_key" -http-key "$http_key" -access-log=false >"$tmp/warden.log" 2>&1 &
pid=$!

url=""
for _ in $(seq 300); do
  url=$(grep '"message":"listening"' "$tmp/warden.log" | grep -o '"url":"[^"]*"' | cut -d'"' -f4 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "nakamajs: warden did not start:" >&2
  cat "$tmp/warden.log" >&2
  exit 1
fi
echo "nakamajs: warden at $url"

# nakama-js races every request against a 7 s timer that it never clears,
# which keeps Node alive for 7 s after the last test unless Node (20.14+)
# can force the exit.
force=""
if node --test-force-exit -e '' 2>/dev/null; then force=--test-force-exit; fi
status=0
(cd "$here" && NAKAMAJS_URL="$url" NAKAMAJS_SERVER_KEY="$server_key" NAKAMAJS_HTTP_KEY="$http_key" \
  node --test $force --test-reporter=spec nakama.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "nakamajs: suite failed ($status); warden's log:" >&2
  tail -n 50 "$tmp/warden.log" >&2
fi
exit "$status"
