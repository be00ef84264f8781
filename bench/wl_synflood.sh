#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Workload "synflood": a spoofed SYN flood at a set rate, the same for every contestant, and
# legitimate clients at a set rate during it; the guest's busy time per SYN.
#
#   bench/wl_synflood.sh ours l0|l2|l2full  |  ipvs st0|st3  |  route -  (in the guest, as root)
#
# Variants (variant_on in common.sh): ours at defense_level 0, or 2 with IPVS's drop rate;
# l2full is l2 with conn_max FULL_CONN_MAX, so that the flood keeps the table full and
# every new SYN evicts (the empty-table l2 never reaches its capacity); IPVS with
# secure_tcp=0, or secure_tcp=3 with drop_packet=3 and drop_entry=3; plain routing (the
# flood and the clients go to rs1:8080 and rs2:8080 in turn, as the scheduler spreads them).
#
# cl1 sends SYNs from random sources in 198.18.0.0/15 to TCP VIP:80 at FLOOD_RATE per
# second (loadgen syn --rate, a raw socket); once it runs, cl2 opens LEGIT_RATE short
# connections per second (3 s timeout). The measured window starts when both run and
# ends when the legitimate clients stop, FLOOD_SECONDS later; then the flood stops.
# Records:
#   set_pps            FLOOD_RATE
#   offered_pps        what the flooder really sent per second (below set_pps only when it
#                      could not keep up; the report flags such runs)
#   busy_us_per_syn    the guest's busy time in the window (wall time minus idle time,
#                      every CPU, /proc/uptime: bench/common.sh busy_cs) per SYN sent in
#                      it: the senders, the director, the servers; the report subtracts
#                      plain routing's figure of the same round (director_us_per_syn)
#   delivered_pct      TCP segments the real servers received over the whole flood (Tcp
#                      InSegs of both), in percent of the SYNs sent: the legitimate
#                      clients' segments and eviction resets count too, a few percent
#   legit_success_pct  the share of cl2's connections answered within 3 s
#   legit_1s_pct       the share answered within 1 s; legit_slow those that took 900 ms or more
#   start_entries      entries in the contestant's table when the run began (IPVS keeps
#                      the entries of earlier runs until they expire; every run waits up
#                      to IPVS_EMPTY_WAIT seconds for IPVS's table to empty)
#   entries            entries of this flood in the contestant's table at the end (not route)
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_synflood.sh CONTESTANT VARIANT} v=${2:?usage: wl_synflood.sh CONTESTANT VARIANT}
bench_init
# The flood stops when the window ends (its stop file); its own bound is a safety net.
flood_secs=$((FLOOD_SECONDS + 60))
[ "$FLOOD_MAX" -ge $((FLOOD_RATE * flood_secs)) ] ||
  die "synflood: FLOOD_MAX $FLOOD_MAX is below FLOOD_RATE x $flood_secs s"
# Nothing of an earlier run may cost inside this run's window: IPVS's entries expire on
# timers (wait for its table to empty, whoever runs), and the servers keep half-open
# requests and retransmit their SYN+ACKs for a minute (during the flood they answer
# with SYN cookies only, which keep nothing).
ipvs_wait_empty
servers_syncookies() { local rs; for rs in rs1 rs2; do in_ns $rs sysctl -qw net.ipv4.tcp_syncookies=$1; done; }
servers_syncookies 2
trap 'touch /tmp/bench-flood.stop; servers_syncookies 1; bench_fini' EXIT
contestant_on "$c" "tcp:$HTTP_PORT:$RS_HTTP:rs1,rs2"
variant_on "$c" "$v"
start_entries=0
[ "$c" != route ] && start_entries=$(entries_count "$c")
dst_args "$c" "$HTTP_PORT" "$RS_HTTP"
segs0=$(servers_tcp_insegs)
rm -f /tmp/bench-flood.stop
flood_start "${DSTS[@]}" --count "$FLOOD_MAX" --seconds "$flood_secs" --rate "$FLOOD_RATE" \
  --stop-file /tmp/bench-flood.stop
# l2full: the window starts with the table full.
if [ "$v" = l2full ]; then
  # Judged on the reading that saw it full: a second reading may catch an eviction between
  # its removal and its insertion (one entry short).
  full=0
  for ((i = 1; i <= 30; i++)); do
    [ "$(entries_count ours)" -ge "$FULL_CONN_MAX" ] && { full=1; break; }
    nap 1
  done
  [ "$full" = 1 ] || die "synflood/ours/l2full: the table did not fill"
fi
rm -f /tmp/bench-legit.ready
"$LOADGEN" conn --netns "cl2-$NS_SUFFIX" "${DSTS[@]}" \
  --seconds "$FLOOD_SECONDS" --parallel 16 --rate "$LEGIT_RATE" --ports "$(port_window)" \
  --timeout-ms 3000 --ready /tmp/bench-legit.ready > /tmp/bench-legit.out 2>&1 &
legit_pid=$!
wait_file /tmp/bench-legit.ready $legit_pid || die "synflood/$c/$v: the legitimate client did not start"
t0=$(date +%s%N); k0=$(busy_cs)
wait $legit_pid || die "synflood/$c/$v: legitimate client failed: $(< /tmp/bench-legit.out)"
k1=$(busy_cs); t1=$(date +%s%N)
touch /tmp/bench-flood.stop
flood_wait; fline=$FLOOD_LINE
segs1=$(servers_tcp_insegs)
lline=$(< /tmp/bench-legit.out)
kv f "$fline"; kv l "$lline"
[ "${f_sent:-0}" -gt 0 ] || die "synflood/$c/$v: no SYN sent: $fline"
tries=$((l_ok + l_failed))
[ "$tries" -gt 0 ] || die "synflood/$c/$v: the legitimate client made no attempt"
window_ms=$(( (t1 - t0) / 1000000 ))
[ "$window_ms" -gt 0 ] || die "synflood/$c/$v: empty window"
# The flood must cover the window: it started before it and stops after it, unless a
# bound of its own ended it early.
[ "$f_elapsed_ms" -ge "$window_ms" ] ||
  die "synflood/$c/$v: the flood ($f_elapsed_ms ms) ended inside the window ($window_ms ms)"
offered_pps=$(div $((f_sent * 1000)) "$f_elapsed_ms")
# SYNs sent in the window, at the flood's own average rate.
window_syns=$(( f_sent * window_ms / f_elapsed_ms ))
extra=()
[ "$c" != route ] && extra=(entries="$(table_entries "$c")")
emit synflood "$c" "$v" set_pps="$FLOOD_RATE" offered_pps="$offered_pps" \
  busy_us_per_syn="$(div $(( (k1 - k0) * 10000 )) "$window_syns")" \
  delivered_pct="$(div $(( (segs1 - segs0) * 100 )) "$f_sent")" window_ms="$window_ms" \
  legit_success_pct="$(div $((l_ok * 100)) "$tries")" legit_1s_pct="$(div $((l_fast * 100)) "$tries")" \
  legit_slow="$l_slow" legit_tries="$tries" start_entries="$start_entries" "${extra[@]}"
contestant_off
