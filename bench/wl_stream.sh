#!/usr/bin/env bash
# Workload "stream": established-flow forwarding, TCP throughput of one long flow.
#
#   bench/wl_stream.sh ipvs|ours|route        (in the guest, as root)
#
# iperf3 from cl1 through VIP:5201 to rs1 (route: to rs1 directly) for BENCH_SECONDS.
# Records mbit_s (the receiver's rate) and the sender's retransmits.
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_stream.sh ipvs|ours|route}
bench_init
contestant_on "$c" "tcp:$IPERF_PORT:$IPERF_PORT:rs1"
dst=$VIP; [ "$c" = route ] && dst=$RS1
json=$(in_ns cl1 timeout $((BENCH_SECONDS + 60)) iperf3 -c "$dst" -p "$IPERF_PORT" \
  -t "$BENCH_SECONDS" -J --connect-timeout 20000) ||
  die "stream/$c: iperf3 failed: $(jq -r '.error // empty' <<< "$json" 2>/dev/null)"
read -r bps retr < <(jq -r '"\(.end.sum_received.bits_per_second | floor) \(.end.sum_sent.retransmits // 0)"' <<< "$json")
[ "${bps:-0}" -gt 0 ] 2>/dev/null || die "stream/$c: no throughput in iperf3's report"
emit stream "$c" "" mbit_s="$(div "$bps" 1000000)" retransmits="$retr"
contestant_off
