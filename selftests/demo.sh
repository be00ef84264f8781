#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What `make run` shows, inside the guest; selftests/test_demo.sh runs it in `make test`.
#
# Topology: lib.sh's (clients cl1, cl2 on 192.0.2.0/24, the director, real servers rs1, rs2
# on 198.51.100.0/24). The script stops with a non-zero status at the first step that does
# not do what it says (no `set -e`: a command that may fail harmlessly must not end it).
. "$(dirname "$0")/lib.sh"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; mod_unload; topo_cleanup' EXIT

show() { echo "\$ ${1##*/} ${*:2}"; "$@"; }

echo "== kernel $(uname -r)"
topo_setup
echo "== insmod ipvs_defense.ko"
mod_load
dmesg | grep ipvs_defense | tail -2
echo "== ipvsdadm: a VIP with two real servers"
show "$IPVSDADM" -A -t "$VIP:80" -s wrr || fail "could not add the service"
show "$IPVSDADM" -a -t "$VIP:80" -r "$RS1:8080" -m -w 1 || fail "could not add rs1"
show "$IPVSDADM" -a -t "$VIP:80" -r "$RS2:8080" -m -w 2 || fail "could not add rs2"
echo "== 6 TCP connections from client cl1 ($CL1) to $VIP:80 (wrr 1:2; each real server"
echo "   answers with its name and the client address it sees)"
rs_start
n1=0 n2=0
for i in 1 2 3 4 5 6; do
  ans=$(tcp_req cl1 80)
  echo "  $ans"
  case "$ans" in
    "rs1 $CL1") n1=$((n1 + 1)) ;;
    "rs2 $CL1") n2=$((n2 + 1)) ;;
    *) fail "connection $i through the VIP: '$ans'" ;;
  esac
done
[ "$n1" = 2 ] && [ "$n2" = 4 ] || fail "wrr 1:2 gave rs1 $n1, rs2 $n2 of 6"
show "$IPVSDADM" -L -n
show "$IPVSDADM" -L -n -c
show "$IPVSDADM" -L -n --stats

# A spoofed SYN flood (sources in 198.18.0.0/15) into a table of 500 entries, while cl2
# makes 10 connections of 3 s each, at level 0 and at level 2. The flood runs at the
# lowest priority: it takes every cycle the client leaves, so that the client's own start
# is not what fails.
echo "== a spoofed SYN flood into a 500-entry table, while client cl2 connects 10 times"
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
# The servers' answers to the spoofed sources go to cl2, which drops them.
ip route add 198.18.0.0/15 via "$CL2" || fail "could not route the spoofed range to cl2"
sc_write amemthresh 0 >/dev/null # the level is set by hand below
max0=$(sc conn_max)
for level in 0 2; do
  adm -C; adm -Z
  "$IPVSDADM" -A -t "$VIP:80" -s rr && "$IPVSDADM" -a -t "$VIP:80" -r "$RS1:8080" -m &&
    "$IPVSDADM" -a -t "$VIP:80" -r "$RS2:8080" -m || fail "could not configure the service"
  sc_write defense_level $level && sc_write conn_max 500 || fail "level $level: sysctl refused"
  flood_bg cl1 "$VIP" 80 120
  flood=$!
  nap 3
  ok=0
  for ((i = 1; i <= 10; i++)); do
    case "$(in_ns cl2 timeout 5 socat -t 3 -T 3 - TCP:"$VIP:80",connect-timeout=3 </dev/null 2>&1)" in
      "rs"[12]" $CL2") ok=$((ok + 1)) ;;
    esac
  done
  e=$(entries)
  kill $flood 2>/dev/null; wait $flood 2>/dev/null
  echo "level $level: cl2 connected $ok of 10 times; $e of 500 entries in use;" \
    "table_full $(sc table_full), entry_evictions $(sc entry_evictions)," \
    "syn_rate_drops $(sc syn_rate_drops)"
  eval "ok$level=$ok"
done
echo "   (level 0 has no room for cl2 once the flood fills the table: table_full counts its"
echo "   SYNs; level 2 evicts the oldest half-open entry, resetting its real server's side)"
[ "$ok2" -ge 8 ] || fail "level 2: only $ok2 of 10 connections during the flood"
[ "$ok2" -gt "$ok0" ] || fail "level 2 ($ok2 of 10) did no better than level 0 ($ok0 of 10)"
sc_write conn_max "$max0" || fail "conn_max $max0 refused"
ip route del 198.18.0.0/15
show "$IPVSDADM" --defense
echo "== /proc/sys/net/ipvs_defense/"
for f in "$SYSCTL"/*; do read -r v < "$f"; printf "%-36s %s\n" "${f##*/}" "$v"; done
echo "== echo 7 > defense_level (refused, the old value kept)"
err=$(sc_write defense_level 7) && fail "defense_level 7 accepted"
echo "refused: ${err##*: }"
echo "defense_level = $(sc defense_level)"
echo "== rmmod"
kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
rmmod ipvs_defense || fail "rmmod failed"
dmesg | grep ipvs_defense | tail -1
echo "== demo done"
