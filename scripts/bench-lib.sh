# bench-lib.sh: what the benchmark scripts share, sourced by bench,
# bench-cluster, bench-floor, bench-http, bench-runs, bench-instr,
# bench-perf and pgo-profile: the body of every POST, the wrk script that
# sends it and wrk's request count, so that their figures are of the same
# request; the cores a server and wrk are pinned to; the wait for a
# server to answer; the machine line each prints; and the guest idle
# setting bench-http, bench-floor and bench-perf can set for a run.

# bench_body is the JSON body of every POST: 52 bytes.
bench_body='{"hello":"world","n":4242,"list":[1,2,3],"ok":false}'

# write_post_lua FILE writes the wrk script that POSTs bench_body as JSON.
write_post_lua() {
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'$bench_body'" >"$1"
}

# wrk_requests FILE prints the number of requests in wrk's output FILE.
wrk_requests() {
  awk '/ requests in /{print $1}' "$1"
}

# need_wrk stops the script when wrk is missing.
need_wrk() {
  command -v wrk >/dev/null || { echo "$(basename "$0"): wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
}

# pin_cores sets pin_server and pin_wrk, the command prefixes that run a
# server on core 0 and wrk on core 1, when there are two cores and
# taskset; both are empty otherwise.
pin_cores() {
  pin_server=(); pin_wrk=()
  if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin_server=(taskset -c 0); pin_wrk=(taskset -c 1)
  fi
}

# wait_url URL [curl args...] polls URL every 50 ms until it answers 2xx,
# for wait_secs seconds (default 30; a server under valgrind needs more),
# and stops the script if it never does.
wait_url() {
  local u=$1; shift
  for _ in $(seq $((${wait_secs:-30} * 20))); do
    curl -fsS -o /dev/null "$@" "$u" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$(basename "$0"): $u does not answer" >&2
  exit 1
}

# haltpoll_param is the guest kernel's halt-polling window (cpuidle-haltpoll,
# in ns), present on a KVM guest that uses that idle driver.
haltpoll_param=/sys/module/haltpoll/parameters/guest_halt_poll_ns

# machine_line prints what the figures were measured on: cores, CPU model,
# Go, the time, the load average, and on a KVM guest its idle policy.
# Why the idle policy: with halt-polling off (guest_halt_poll_ns=0, as
# Firecracker boots its guests), an idle core halts at once and waking it
# is a VM exit on the waker's side. wrk's core idles more while it waits
# on a slower server, so the slower server pays more for each response's
# wake-up: Warden's ratios to the bare server then fall further than its
# own costs say (docs/benchmarks.md, "Issue 12, fourteenth pass").
machine_line() {
  local idle=""
  if [ -r "$haltpoll_param" ]; then
    idle=", idle: $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo '?') with guest_halt_poll_ns=$(cat "$haltpoll_param")"
  fi
  echo "$(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(go version | cut -d' ' -f3), $(date -u '+%F %H:%M'), load average $(cut -d' ' -f1-3 /proc/loadavg)$idle"
}

# haltpoll_for_run sets the guest's halt-polling window to
# BENCH_HALTPOLL_NS for the rest of the script, when that is set, keeping
# the old value in haltpoll_old for haltpoll_restore, which the caller's
# exit trap runs. Setting it needs root on a KVM guest with the haltpoll
# idle driver; 200000 is the kernel's default.
haltpoll_old=
haltpoll_for_run() {
  [ -n "${BENCH_HALTPOLL_NS:-}" ] || return 0
  if [ ! -w "$haltpoll_param" ]; then
    echo "bench: BENCH_HALTPOLL_NS is set, but $haltpoll_param is not writable (not a KVM guest with cpuidle-haltpoll, or not root)" >&2
    return 1
  fi
  haltpoll_old=$(cat "$haltpoll_param")
  echo "$BENCH_HALTPOLL_NS" >"$haltpoll_param"
}

# haltpoll_restore puts back the window haltpoll_for_run replaced, if any.
haltpoll_restore() {
  [ -z "$haltpoll_old" ] || echo "$haltpoll_old" >"$haltpoll_param"
}
