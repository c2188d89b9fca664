# bench-lib.sh: what the benchmark scripts share, sourced by bench-http,
# bench-instr and bench-perf, so that their figures are of the same
# request: the body of every POST, the wrk script that sends it, and
# wrk's request count.

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
