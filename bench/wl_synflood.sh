#!/usr/bin/env bash
# Workload "synflood": a spoofed SYN flood at the highest rate the guest sustains, and
# legitimate clients during it.
#
#   bench/wl_synflood.sh ours l0|l2  |  ipvs st0|st3  |  route -     (in the guest, as root)
#
# Variants: ours at defense_level 0 or 2; IPVS with secure_tcp=0, or secure_tcp=3 with
# drop_packet=3 and drop_entry=3 (all of its defenses always on); plain routing (the
# flood goes to rs1:8080 directly).
#
# cl1 floods TCP VIP:80 with SYNs from random sources in 198.18.0.0/15 as fast as it can
# (loadgen syn: raw socket, bounded by FLOOD_MAX packets and time); once it runs, cl2 makes
# short connections (2 threads, 3 s timeout) for FLOOD_SECONDS. Records:
#   offered_pps   SYNs the flooder sent per second
#   absorbed_pps  SYNs the director took in per second: sent minus what the input backlog
#                 dropped (/proc/net/softnet_stat), over the flood's time. Under emulation
#                 the flooder and the director share the CPU, so this is the per-SYN cost
#                 of the whole path, seen from the sender
#   legit_success_pct, legit_cps  the share of cl2's connections answered within 3 s, and
#                 their rate
#   entries       entries of this flood in the contestant's table (not for route)
. "$(dirname "$0")/common.sh"
c=${1:?usage: wl_synflood.sh CONTESTANT VARIANT} v=${2:?usage: wl_synflood.sh CONTESTANT VARIANT}
bench_init
contestant_on "$c" "tcp:$HTTP_PORT:$RS_HTTP:rs1,rs2"
variant_on "$c" "$v"
dst_args "$c" "$HTTP_PORT" "$RS_HTTP"
# The flood goes to the first destination (route: rs1 alone), the legitimate clients to all.
fdst=${DSTS[1]}
d0=$(softnet_drops)
# The flood outlasts the legitimate clients (whose own start takes seconds).
flood_start --dst "$fdst" --count "$FLOOD_MAX" --seconds $((FLOOD_SECONDS + 4))
lline=$(in_ns cl2 timeout $((FLOOD_SECONDS + 60)) "$LOADGEN" conn "${DSTS[@]}" \
  --seconds "$FLOOD_SECONDS" --parallel 2 --ports "$(port_window)" --timeout-ms 3000) ||
  die "synflood/$c/$v: legitimate client failed: $lline"
flood_wait; fline=$FLOOD_LINE
d1=$(softnet_drops)
kv f "$fline"; kv l "$lline"
[ "${f_sent:-0}" -gt 0 ] || die "synflood/$c/$v: no SYN sent: $fline"
tries=$((l_ok + l_failed))
[ "$tries" -gt 0 ] || die "synflood/$c/$v: the legitimate client made no attempt"
extra=()
[ "$c" != route ] && extra=(entries="$(table_entries "$c")")
emit synflood "$c" "$v" offered_pps="$(div $((f_sent * 1000)) "$f_elapsed_ms")" \
  absorbed_pps="$(div $(( (f_sent - (d1 - d0)) * 1000 )) "$f_elapsed_ms")" \
  backlog_drops=$((d1 - d0)) legit_success_pct="$(div $((l_ok * 100)) "$tries")" \
  legit_cps="$(div $((l_ok * 1000)) "$l_elapsed_ms")" "${extra[@]}"
contestant_off
