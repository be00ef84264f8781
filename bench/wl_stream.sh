#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "stream": established-flow forwarding of one long TCP flow at a set rate, and
# what it costs.
#
#   bench/wl_stream.sh ipvs|ours|route        (in the guest, as root)
#
# iperf3 from cl1 through VIP:5201 to rs1 (route: to rs1 directly) for BENCH_SECONDS at
# STREAM_MBIT Mbit/s (-b), the same for every contestant. The window starts 2 s into the
# run (iperf3's start and connection are outside it) and ends with the client. Records:
#   busy_us_per_mbit  the guest's busy time in the window (wall time minus idle time,
#                    every CPU, /proc/uptime: bench/common.sh busy_cs) per Mbit received at the receiver's average rate: the
#                    senders, the director, the servers; the report subtracts plain
#                    routing's figure of the same round (director_us_per_mbit)
#   set_mbit_s, mbit_s  STREAM_MBIT, and the receiver's rate; retransmits (the sender's)
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_stream.sh ipvs|ours|route}
bench_init
contestant_on "$c" "tcp:$IPERF_PORT:$IPERF_PORT:rs1"
dst=$VIP; [ "$c" = route ] && dst=$RS1
in_ns cl1 timeout $((BENCH_SECONDS + 60)) iperf3 -c "$dst" -p "$IPERF_PORT" \
  -t "$BENCH_SECONDS" -b "${STREAM_MBIT}M" -J --connect-timeout 20000 > /tmp/bench-stream.json &
cpid=$!
sleep 2
k0=$(busy_cs); t0=$(date +%s%N)
wait $cpid; rc=$?
k1=$(busy_cs); t1=$(date +%s%N)
json=$(< /tmp/bench-stream.json)
[ $rc -eq 0 ] || die "stream/$c: iperf3 failed: $(jq -r '.error // empty' <<< "$json" 2>/dev/null)"
read -r bps retr < <(jq -r '"\(.end.sum_received.bits_per_second | floor) \(.end.sum_sent.retransmits // 0)"' <<< "$json")
[ "${bps:-0}" -gt 0 ] 2>/dev/null || die "stream/$c: no throughput in iperf3's report"
# Mbit received in the window at the receiver's average rate (kbit, for bash's integers).
window_kbit=$(( bps / 1000 * ( (t1 - t0) / 1000000 ) / 1000 ))
[ "$window_kbit" -gt 0 ] || die "stream/$c: empty window"
emit stream "$c" "" busy_us_per_mbit="$(div $(( (k1 - k0) * 10000 * 1000 )) "$window_kbit")" \
  set_mbit_s="$STREAM_MBIT" mbit_s="$(div "$bps" 1000000)" retransmits="$retr"
contestant_off
