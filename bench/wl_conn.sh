#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "conn": new connections at a set rate, and what each costs.
#
#   bench/wl_conn.sh ipvs|ours|route          (in the guest, as root)
#
# cl1 and cl2 each open CONN_RATE/2 short TCP connections per second (CONN_PARALLEL
# threads each, the same for every contestant) for BENCH_SECONDS to TCP VIP:80, scheduled
# rr over rs1:8080 and rs2:8080 (route: alternately to rs1:8080 and rs2:8080 directly).
# Each connection: connect, read the server's one-line answer to EOF (the server closes
# first), close. Client ports come from a fresh window each run (see port_window in
# common.sh), so no port meets a TIME_WAIT left by an earlier run. The window runs from
# the moment both clients run to the end of the last. Records:
#   busy_us_per_conn  the guest's busy time in the window (wall time minus idle time,
#                    every CPU, /proc/uptime: bench/common.sh busy_cs) per connection attempted: the
#                    senders, the director, the servers; the report subtracts plain
#                    routing's figure of the same round (director_us_per_conn)
#   set_cps, conns_per_s  CONN_RATE, and the connections completed per second over the
#                       span both clients covered
#   failed (no answer within 3 s), slow (took >= 0.9 s: a SYN was retransmitted)
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_conn.sh ipvs|ours|route}
bench_init
contestant_on "$c" "tcp:$HTTP_PORT:$RS_HTTP:rs1,rs2"
dst_args "$c" "$HTTP_PORT" "$RS_HTTP"
pids=()
for cl in cl1 cl2; do
  rm -f /tmp/bench-conn.$cl.ready
  "$LOADGEN" conn --netns "$cl-$NS_SUFFIX" "${DSTS[@]}" \
    --seconds "$BENCH_SECONDS" --parallel "$CONN_PARALLEL" --ports "$(port_window)" \
    --timeout-ms 3000 --rate "$(div "$CONN_RATE" 2)" --ready /tmp/bench-conn.$cl.ready \
    > /tmp/bench-conn.$cl 2>&1 &
  pids+=($!)
done
wait_file /tmp/bench-conn.cl1.ready "${pids[0]}" && wait_file /tmp/bench-conn.cl2.ready "${pids[1]}" ||
  die "conn/$c: a client did not start: $(cat /tmp/bench-conn.cl1 /tmp/bench-conn.cl2)"
k0=$(busy_cs)
for p in "${pids[@]}"; do
  wait "$p" || die "conn/$c: a client failed: $(cat /tmp/bench-conn.cl1 /tmp/bench-conn.cl2)"
done
k1=$(busy_cs)
kv a "$(< /tmp/bench-conn.cl1)"; kv b "$(< /tmp/bench-conn.cl2)"
ok=$((a_ok + b_ok))
span=$(( (a_end_ms > b_end_ms ? a_end_ms : b_end_ms) - (a_start_ms < b_start_ms ? a_start_ms : b_start_ms) ))
[ "$ok" -gt 0 ] || die "conn/$c: no connection completed (failed $((a_failed + b_failed)))"
[ $((a_bind_errors + b_bind_errors)) -eq 0 ] || note "conn/$c: $((a_bind_errors + b_bind_errors)) local bind errors"
tries=$((ok + a_failed + b_failed))
emit conn "$c" "" busy_us_per_conn="$(div $(( (k1 - k0) * 10000 )) "$tries")" \
  set_cps="$CONN_RATE" conns_per_s="$(div $((ok * 1000)) "$span")" ok="$ok" \
  failed=$((a_failed + b_failed)) slow=$((a_slow + b_slow)) ports_exhausted=$((a_exhausted + b_exhausted))
contestant_off
