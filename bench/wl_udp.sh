#!/usr/bin/env bash
# Workload "udp": established-flow forwarding, small-packet rate.
#
#   bench/wl_udp.sh ipvs|ours|route           (in the guest, as root)
#
# cl1 sends 18-byte UDP payloads (64-byte Ethernet frames with the FCS) as fast as it can
# from 4 source ports for BENCH_SECONDS, through UDP VIP:9000 to rs1 and rs2 (rr spreads
# the 4 flows; route: 2 flows to each server directly). Sinks in rs1 and rs2 count what
# arrives. Records pps (datagrams delivered per second of sending) and sent_pps.
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
line=$(in_ns cl1 timeout $((BENCH_SECONDS + 60)) "$LOADGEN" udp "${DSTS[@]}" \
  --seconds "$BENCH_SECONDS" --flows 4 --size 18) || die "udp/$c: sender failed: $line"
for p in "${pids[@]}"; do
  wait "$p" || die "udp/$c: a sink failed: $(cat /tmp/bench-sink.rs1 /tmp/bench-sink.rs2)"
done
kv s "$line"; kv r1 "$(cat /tmp/bench-sink.rs1)"; kv r2 "$(cat /tmp/bench-sink.rs2)"
got=$(( ${r1_received:-0} + ${r2_received:-0} ))
[ "$got" -gt 0 ] || die "udp/$c: no datagram arrived (sent ${s_sent:-?})"
emit udp "$c" "" pps="$(div $((got * 1000)) "$s_elapsed_ms")" \
  sent_pps="$(div $((s_sent * 1000)) "$s_elapsed_ms")" rs1="${r1_received:-0}" rs2="${r2_received:-0}"
contestant_off
