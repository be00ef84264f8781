#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "udp": established-flow forwarding of small packets at a set rate, and what
# each packet costs.
#
#   bench/wl_udp.sh ipvs|ours|route           (in the guest, as root)
#
# cl1 sends 18-byte UDP payloads (64-byte Ethernet frames with the FCS) from 4 source
# ports at UDP_RATE per second, the same for every contestant, for BENCH_SECONDS, through
# UDP VIP:9000 to rs1 and rs2 (rr spreads the 4 flows; route: 2 flows to each server
# directly). Sinks in rs1 and rs2 count what arrives. The window runs from the sender's
# start (after its process start) to its end. Records:
#   busy_us_per_pkt  the guest's busy time in the window (wall time minus idle time,
#                   every CPU, /proc/uptime: bench/common.sh busy_cs) per datagram sent: the
#                   senders, the director, the servers; the report subtracts plain
#                   routing's figure of the same round (director_us_per_pkt)
#   set_pps, offered_pps  UDP_RATE, and what the sender managed
#   pps, delivered_pct    datagrams delivered per second of sending, and in percent of sent
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_udp.sh ipvs|ours|route}
bench_init
contestant_on "$c" "udp:$UDP_PORT:$UDP_PORT:rs1,rs2"
dst_args "$c" "$UDP_PORT" "$UDP_PORT"
pids=()
for rs in rs1 rs2; do
  # A sink exits 3 s after its last datagram (or at its time bound).
  in_ns $rs timeout $((BENCH_SECONDS + 120)) "$LOADGEN" serve --udp --port "$UDP_PORT" \
    --seconds $((BENCH_SECONDS + 100)) --idle-ms 3000 > /tmp/bench-sink.$rs 2>&1 &
  pids+=($!)
done
wait_listen rs1 "$UDP_PORT" u; wait_listen rs2 "$UDP_PORT" u
rm -f /tmp/bench-udp.ready
in_ns cl1 timeout $((BENCH_SECONDS + 60)) "$LOADGEN" udp "${DSTS[@]}" --seconds "$BENCH_SECONDS" \
  --flows 4 --size 18 --rate "$UDP_RATE" --ready /tmp/bench-udp.ready > /tmp/bench-udp.out 2>&1 &
spid=$!
wait_file /tmp/bench-udp.ready $spid || die "udp/$c: the sender did not start: $(cat /tmp/bench-udp.out)"
k0=$(busy_cs)
wait $spid || die "udp/$c: sender failed: $(cat /tmp/bench-udp.out)"
k1=$(busy_cs)
line=$(cat /tmp/bench-udp.out)
for p in "${pids[@]}"; do
  wait "$p" || die "udp/$c: a sink failed: $(cat /tmp/bench-sink.rs1 /tmp/bench-sink.rs2)"
done
kv s "$line"; kv r1 "$(cat /tmp/bench-sink.rs1)"; kv r2 "$(cat /tmp/bench-sink.rs2)"
got=$(( ${r1_received:-0} + ${r2_received:-0} ))
[ "$got" -gt 0 ] || die "udp/$c: no datagram arrived (sent ${s_sent:-?})"
tried=$(( s_sent + s_errors ))
[ "$tried" -gt 0 ] || die "udp/$c: nothing sent"
emit udp "$c" "" busy_us_per_pkt="$(div $(( (k1 - k0) * 10000 )) "$tried")" \
  set_pps="$UDP_RATE" offered_pps="$(div $((tried * 1000)) "$s_elapsed_ms")" \
  pps="$(div $((got * 1000)) "$s_elapsed_ms")" delivered_pct="$(div $((got * 100)) "$tried")" \
  rs1="${r1_received:-0}" rs2="${r2_received:-0}"
contestant_off
