#!/usr/bin/env bash
# Workload "conn": new connections per second.
#
#   bench/wl_conn.sh ipvs|ours|route          (in the guest, as root)
#
# cl1 and cl2 each run CONN_PARALLEL threads of short TCP connections for BENCH_SECONDS
# to TCP VIP:80, scheduled rr over rs1:8080 and rs2:8080 (route: alternately to rs1:8080
# and rs2:8080 directly). Each connection: connect, read the server's one-line answer to
# EOF (the server closes first), close. Client ports come from a fresh window each run
# (see port_window in common.sh), so no port meets a TIME_WAIT left by an earlier run.
# Records conns_per_s (completed connections over the span both clients covered),
# failed (no answer within 3 s) and slow (took >= 0.9 s: a SYN was retransmitted).
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_conn.sh ipvs|ours|route}
bench_init
contestant_on "$c" "tcp:$HTTP_PORT:$RS_HTTP:rs1,rs2"
dst_args "$c" "$HTTP_PORT" "$RS_HTTP"
pids=()
for cl in cl1 cl2; do
  in_ns $cl timeout $((BENCH_SECONDS + 60)) "$LOADGEN" conn "${DSTS[@]}" \
    --seconds "$BENCH_SECONDS" --parallel "$CONN_PARALLEL" --ports "$(port_window)" \
    --timeout-ms 3000 > /tmp/bench-conn.$cl 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do
  wait "$p" || die "conn/$c: a client failed: $(cat /tmp/bench-conn.cl1 /tmp/bench-conn.cl2)"
done
kv a "$(cat /tmp/bench-conn.cl1)"; kv b "$(cat /tmp/bench-conn.cl2)"
ok=$((a_ok + b_ok))
span=$(( (a_end_ms > b_end_ms ? a_end_ms : b_end_ms) - (a_start_ms < b_start_ms ? a_start_ms : b_start_ms) ))
[ "$ok" -gt 0 ] || die "conn/$c: no connection completed (failed $((a_failed + b_failed)))"
[ $((a_bind_errors + b_bind_errors)) -eq 0 ] || note "conn/$c: $((a_bind_errors + b_bind_errors)) local bind errors"
emit conn "$c" "" conns_per_s="$(div $((ok * 1000)) "$span")" ok="$ok" \
  failed=$((a_failed + b_failed)) slow=$((a_slow + b_slow)) ports_exhausted=$((a_exhausted + b_exhausted))
contestant_off
