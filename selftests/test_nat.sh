#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End to end through the VIP: TCP and UDP requests from clients reach both real servers
# (rr), with the client's address intact; replies come back from VIP:port; entries are
# listed with their state; counters add up, per service and per real server, with active
# and inactive connections; -Z zeroes one service or everything but the hook counters; a
# 2 MB transfer arrives whole (checksums and offloads right); a real server deleted or
# quiesced under traffic keeps its connections, translated both ways; with the `rewrite`
# fault build, a packet whose headers cannot be rewritten is dropped and counted
# (rewrite_failures), never sent on.
. "$(dirname "$0")/lib.sh"
plan 12
FAULT_DIR=${FAULT_DIR:-$IPVSD_TOP/out}
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
adm -A -t "$VIP:80" -s rr
adm -a -t "$VIP:80" -r "$RS1:8080" -m
adm -a -t "$VIP:80" -r "$RS2:8080" -m
adm -A -u "$VIP:53" -s rr
adm -a -u "$VIP:53" -r "$RS1:5353" -m
adm -a -u "$VIP:53" -r "$RS2:5353" -m
adm -A -t "$VIP:8000" -s wrr
adm -a -t "$VIP:8000" -r "$RS1:8080" -m -w 3
adm -a -t "$VIP:8000" -r "$RS2:8080" -m -w 1
adm -A -t "$VIP:8001" -s mh
adm -a -t "$VIP:8001" -r "$RS1:8080" -m
adm -a -t "$VIP:8001" -r "$RS2:8080" -m
adm -A -t "$VIP:81" -s rr
adm -a -t "$VIP:81" -r "$RS1:8081" -m

# "STATE REAL_SERVER" of the entry from client address:port $2 to VIP:$1 once it is
# ESTABLISHED (waiting up to 30 s), or of its entry in any state with a third argument.
entry_of() { # vport client_addr:port [any]
  local e i
  for ((i = 1; i <= 60; i++)); do
    if [ -n "${3:-}" ]; then e=$(conn_entry "$1" "$2"); else e=$(conn_entry "$1" "$2" ESTABLISHED); fi &&
      { echo "${e%% *} ${e##* }"; return 0; }
    [ -n "${3:-}" ] && return 1
    nap 0.5
  done
  return 1
}
# Every counter of the service PROTO port $2 and of its real servers, as one JSON line.
svc_counters() { # TCP|UDP port
  ipvsdadm -L -n --stats --json |
    jq -c --arg p "$1" --argjson n "$2" '.services[] | select(.protocol == $p and .port == $n) |
      [.stats, .drops, [.real_servers[] | .stats]]'
}

tcp_rr_split() {
  local n1=0 n2=0 i=0 ans
  while IFS= read -r ans; do
    i=$((i + 1))
    case "$ans" in
      "rs1 $CL1") n1=$((n1 + 1)) ;;
      "rs2 $CL1") n2=$((n2 + 1)) ;;
      *) fail "TCP request $i: unexpected answer '$ans'" ;;
    esac
  done < <(tcp_req cl1 80 10)
  expect_eq "$n1/$n2" "5/5" "rr split of 10 TCP connections (rs1/rs2)"
  diag "10 TCP connections through $VIP:80: 5 to rs1, 5 to rs2, client address seen by the servers"
}

second_client_address() {
  local ans
  ans=$(tcp_req cl2 80)
  case "$ans" in "rs"[12]" $CL2") ;; *) fail "second client: '$ans'";; esac
}

# wrr 3:1 gives exactly 3:1; mh sends a given client to the same server every time.
wrr_3_to_1_sequence() {
  local seq="" i
  while IFS= read -r i; do seq=$seq${i:2:1}; done < <(tcp_req cl1 8000 8)
  expect_eq "$seq" "11121112" "wrr 3:1 sequence of servers"
  diag "wrr 3:1 gave $seq"
}

mh_same_server_per_client() {
  local first got i
  first=$(in_ns cl2 timeout 10 socat -t 5 -T 5 - TCP:"$VIP:8001",sourceport=40001,reuseaddr </dev/null | cut -c1-3)
  for i in 1 2 3; do
    nap 0.2
    got=$(in_ns cl2 timeout 10 socat -t 5 -T 5 - TCP:"$VIP:8001",sourceport=$((40001 + i)),reuseaddr </dev/null | cut -c1-3)
    [ -n "$got" ] || fail "mh: no answer"
    expect_eq "$got" "$first" "mh: server of connection $((i + 1)) from the same client"
  done
  diag "mh answered from $first"
}

udp_both_servers() {
  local u1 u2
  { read -r u1; read -r u2; } < <(udp_req cl1 53 2)
  case "$u1$u2" in *rs1*rs2*|*rs2*rs1*) ;; *) fail "UDP answers '$u1' '$u2' not from both servers";; esac
  diag "UDP through $VIP:53: '$u1', '$u2'"
}

connection_listing() {
  local conns
  conns=$(ipvsdadm -L -n -c)
  echo "$conns" | sed 's/^/#   /'
  echo "$conns" | grep -qE "^TCP .* (TIME_WAIT|CLOSE|FIN_WAIT|CLOSE_WAIT|LAST_ACK|ESTABLISHED) +192.0.2.[23]:[0-9]+ +$VIP:[0-9]+ +198.51.100.[23]:8080" ||
    fail "no TCP entry in the connection listing"
  echo "$conns" | grep -qE "^UDP .*$CL1:[0-9]+ +$VIP:53 +198.51.100.[23]:5353" ||
    fail "no UDP entry in the connection listing"
}

# VIP:80 counts the 11 connections of tcp_rr_split and second_client_address.
service_stats() {
  local stats c
  stats=$(ipvsdadm -L -n --stats --json)
  c=$(echo "$stats" | python3 -S -c '
import json, sys
d = json.load(sys.stdin)
s = [s for s in d["services"] if s["protocol"] == "TCP"][0]
print(s["stats"]["conns"], sum(r["stats"]["conns"] for r in s["real_servers"]), s["stats"]["inpkts"] > 0, s["stats"]["outpkts"] > 0)')
  expect_eq "$c" "11 11 True True" "TCP service conns, RS conns sum, in/out packets"
  diag "stats: 11 connections on the TCP service and its servers"
}

# A bigger transfer through the VIP, both ways: a server sends 2 MB.
transfer_2mb_whole() {
  expect_eq "$(bulk_from_rs1 2000000 30)" 2000000 "bytes received through the VIP"
  diag "2 MB from a real server through the VIP arrived whole"
}

# A fresh rr service VIP:82 (servers answer once the client sent a line): 5 short
# connections from cl1 go rs1 rs2 rs1 rs2 rs1, a 6th, held open from cl2, goes to rs2. So
# conns 6 = 3 + 3; traffic both ways at each; the service's bytes the sum of its servers';
# ActiveConn 0 and 1 (the held one), InActConn 3 and 2 (the closed ones, in TIME_WAIT).
per_real_server_counters() {
  local rs i ans seq="" held e sc c1 c2 si i1 i2 so o1 o2 a1 a2 n1 n2 txt
  rs_serve 8082 'read l; echo NAME $SOCAT_PEERADDR'
  adm -A -t "$VIP:82" -s rr
  adm -a -t "$VIP:82" -r "$RS1:8082" -m
  adm -a -t "$VIP:82" -r "$RS2:8082" -m
  for i in 1 2 3 4 5; do
    ans=$(echo hi | in_ns cl1 timeout 20 socat -t 10 -T 10 - TCP:"$VIP:82",connect-timeout=10 2>&1)
    case "$ans" in "rs"[12]" $CL1") seq="$seq${ans:2:1}" ;; *) fail "request $i to $VIP:82: '$ans'" ;; esac
  done
  expect_eq "$seq" 12121 "rr: servers of 5 connections to $VIP:82"
  hold_conn cl2 82 40820 5; held=$HELD_PID
  e=$(entry_of 82 "$CL2:40820") || fail "the held connection did not get ESTABLISHED"
  expect_eq "$e" "ESTABLISHED $RS2:8082" "entry of the held 6th connection"
  read -r sc c1 c2 si i1 i2 so o1 o2 a1 a2 n1 n2 < <(ipvsdadm -L -n --stats --json |
    jq -r --arg r1 "$RS1" --arg r2 "$RS2" '.services[] | select(.protocol == "TCP" and .port == 82) |
      .stats as $s | (.real_servers | map({key: .address, value: .}) | from_entries) as $r |
      [$s.conns, $r[$r1].stats.conns, $r[$r2].stats.conns,
       $s.inbytes, $r[$r1].stats.inbytes, $r[$r2].stats.inbytes,
       $s.outbytes, $r[$r1].stats.outbytes, $r[$r2].stats.outbytes,
       $r[$r1].active_conns, $r[$r2].active_conns, $r[$r1].inactive_conns, $r[$r2].inactive_conns] | @tsv')
  diag "$VIP:82: conns $sc = rs1 $c1 + rs2 $c2; inbytes $si = $i1 + $i2; outbytes $so = $o1 + $o2; active $a1 $a2, inactive $n1 $n2"
  expect_eq "$sc $c1 $c2" "6 3 3" "conns of $VIP:82, rs1, rs2"
  expect_ge "$i1" 1 "inbytes of rs1"; expect_ge "$i2" 1 "inbytes of rs2"
  expect_ge "$o1" 1 "outbytes of rs1"; expect_ge "$o2" 1 "outbytes of rs2"
  expect_eq "$si" $((i1 + i2)) "inbytes of $VIP:82, the sum of its real servers'"
  expect_eq "$so" $((o1 + o2)) "outbytes of $VIP:82, the sum of its real servers'"
  expect_eq "$a1 $a2 $n1 $n2" "0 1 3 2" "active_conns of rs1 rs2, inactive_conns of rs1 rs2 (JSON)"
  txt=$(ipvsdadm -L -n | awk -v r1="$RS1:8082" -v r2="$RS2:8082" \
    '$2 == r1 { x = $5 " " $6 } $2 == r2 { y = $5 " " $6 } END { print x, y }')
  expect_eq "$txt" "0 3 1 2" "ActiveConn InActConn of rs1, then rs2 (-L -n)"
  exec 5>&-
  wait "$held"
  nap 1
}

# -Z -t VIP:80 zeroes that service and its real servers, and leaves VIP:53 and the
# director's counters alone; -Z zeroes every service, real server and the director's
# traffic and drop counters, but not the hook counters (Documentation/ipvs-defense.rst,
# "Drops and counters"; zero() in director/control.rs).
zero_service_and_all() {
  local ans z s80 s53 n80 n53 g z1 lin fwd
  ans=$(tcp_req cl1 80)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "request to $VIP:80: '$ans'" ;; esac
  ans=$(udp_req cl1 53)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "datagram to $VIP:53: '$ans'" ;; esac
  # A zombie: a datagram from $RS1:5353 (a real server of VIP:53) that matches no entry.
  z=$(drops zombie_replies)
  echo z | in_ns rs1 timeout 5 socat -u - UDP:"$CL1:9999",sourceport=5353,reuseaddr
  nap 1
  z1=$(drops zombie_replies)
  expect_eq "$z1" $((z + 1)) "zombie_replies after a datagram from $RS1:5353 matching no entry"
  s80=$(svc_counters TCP 80); s53=$(svc_counters UDP 53)
  n80=$(echo "$s80" | jq '[.. | numbers] | add'); n53=$(echo "$s53" | jq '[.. | numbers] | add')
  expect_ge "$n80" 1 "sum of the counters of $VIP:80 before -Z"
  expect_ge "$n53" 1 "sum of the counters of $VIP:53 before -Z"
  g=$(ipvsdadm --defense --json | jq -c '[.stats, .drops]')
  adm -Z -t "$VIP:80"
  expect_eq "$(svc_counters TCP 80 | jq '[.. | numbers] | add')" 0 "sum of the counters of $VIP:80 and its real servers after -Z -t $VIP:80"
  expect_eq "$(svc_counters UDP 53)" "$s53" "counters of $VIP:53 after -Z -t $VIP:80"
  expect_eq "$(ipvsdadm --defense --json | jq -c '[.stats, .drops]')" "$g" "the director's counters after -Z -t $VIP:80"
  expect_eq "$(drops zombie_replies)" "$z1" "zombie_replies after -Z -t $VIP:80"
  diag "-Z -t $VIP:80: the sum of the counters of $VIP:80 and its servers $n80 -> 0; $VIP:53's ($n53) and the director's kept ($g)"
  lin=$(sc local_in_packets); fwd=$(sc forward_packets)
  adm -Z
  expect_eq "$(ipvsdadm -L -n --stats --json | jq '[.services[] | .stats, .drops, .real_servers[].stats | .[]] | add')" 0 \
    "sum of every counter of every service and real server after -Z"
  expect_eq "$(ipvsdadm --defense --json | jq '[.stats, .drops | .[]] | add')" 0 "sum of the director's traffic and drop counters after -Z"
  expect_eq "$(drops zombie_replies)" 0 "zombie_replies after -Z"
  expect_ge "$(sc local_in_packets)" "$lin" "local_in_packets after -Z"
  expect_ge "$(sc forward_packets)" "$fwd" "forward_packets after -Z"
  diag "-Z: every service and the director at 0 (zombie_replies $z1 -> 0); hook counters kept (local_in_packets $lin -> $(sc local_in_packets), forward_packets $fwd -> $(sc forward_packets))"
}

# Documentation/ipvs-defense.rst, "Configuration semantics": DEL_DEST leaves existing
# entries, still translated. VIP:87 rr over rs1 and rs2, which send "a NAME", then "b NAME"
# once the client sent a line. With a connection held at each, rs2 goes to weight 0 and rs1
# is deleted: rs1's entry stays listed, both clients get their "b" (nothing from the
# servers' addresses reaches a client, no zombie), a new connection gets no server until
# rs2 is back at weight 1, then goes to rs2.
delete_and_edit_real_server_under_traffic() {
  local rs z0 j1 j2 e txt ans i o1 o2 from_rs from_vip
  rs_serve 8087 'echo a NAME; read l; echo b NAME'
  adm -A -t "$VIP:87" -s rr
  adm -a -t "$VIP:87" -r "$RS1:8087" -m
  adm -a -t "$VIP:87" -r "$RS2:8087" -m
  z0=$(drops zombie_replies)
  cap_start d87 tcp cl1 cl2
  hold_conn cl1 87 40871 5; j1=$HELD_PID
  e=$(entry_of 87 "$CL1:40871") || fail "the connection from cl1 did not get ESTABLISHED"
  expect_eq "$e" "ESTABLISHED $RS1:8087" "entry of the first connection (cl1)"
  hold_conn cl2 87 40872 6; j2=$HELD_PID
  e=$(entry_of 87 "$CL2:40872") || fail "the connection from cl2 did not get ESTABLISHED"
  expect_eq "$e" "ESTABLISHED $RS2:8087" "entry of the second connection (cl2)"
  adm -e -t "$VIP:87" -r "$RS2:8087" -m -w 0
  adm -d -t "$VIP:87" -r "$RS1:8087"
  txt=$(ipvsdadm -L -n --json | jq -r '.services[] | select(.protocol == "TCP" and .port == 87) |
    [.real_servers[] | "\(.address):\(.port) weight \(.weight) active \(.active_conns)"] | join(", ")')
  expect_eq "$txt" "$RS2:8087 weight 0 active 1" "real servers of $VIP:87 after -e -w 0 and -d"
  expect_eq "$(entry_of 87 "$CL1:40871" any)" "ESTABLISHED $RS1:8087" "the deleted server's entry in -L -n -c"
  ans=$(in_ns cl1 timeout 10 socat -T 5 - TCP:"$VIP:87",connect-timeout=3 </dev/null 2>/dev/null)
  expect_eq "$ans" "" "answer to a new connection with rs1 deleted and rs2 at weight 0"
  echo go >&5; echo go >&6
  for ((i = 1; i <= 60; i++)); do
    o1=$(< /tmp/held.40871.out); o2=$(< /tmp/held.40872.out)
    [[ $o1 == *b* && $o2 == *b* ]] && break
    nap 0.5
  done
  exec 5>&- 6>&-
  wait "$j1" "$j2"
  o1=$(< /tmp/held.40871.out); o2=$(< /tmp/held.40872.out)
  expect_eq "${o1//$'\n'/ }" "a rs1 b rs1" "what cl1 received from the deleted rs1"
  expect_eq "${o2//$'\n'/ }" "a rs2 b rs2" "what cl2 received from rs2 at weight 0"
  e=$(entry_of 87 "$CL1:40871" any) || fail "the deleted server's entry is gone once its connection ended"
  expect_eq "${e#* }" "$RS1:8087" "real server of the ended connection's entry"
  adm -e -t "$VIP:87" -r "$RS2:8087" -m -w 1
  ans=$(echo go | in_ns cl1 timeout 20 socat -t 10 -T 10 - TCP:"$VIP:87",connect-timeout=10 2>&1)
  expect_eq "${ans//$'\n'/ }" "a rs2 b rs2" "answer to a new connection with rs2 at weight 1"
  cap_stop d87
  from_rs=$(cap_count d87 "src net 198.51.100.0/24"); from_vip=$(cap_count d87 "src host $VIP")
  expect_eq "$from_rs" 0 "packets from 198.51.100.0/24 captured at cl1 and cl2"
  expect_ge "$from_vip" 10 "packets from $VIP captured at cl1 and cl2"
  expect_eq "$(drops zombie_replies)" "$z0" "zombie_replies"
  diag "rs1 deleted and rs2 at weight 0 under 2 connections: both got a and b ($from_vip packets from $VIP, $from_rs from the servers' addresses); the ended entry at rs1 listed as '$e'; zombie_replies $z0"
}

# The `rewrite` fault build fails every header rewrite (as when the host cannot allocate):
# 3 datagrams to the VIP are dropped and counted, none reaches a real server. Last: it
# leaves that build loaded.
rewrite_failure_dropped_and_counted() {
  local ko=$FAULT_DIR/fault-rewrite/ipvs_defense.ko at_rs n
  [ -f "$ko" ] || fail "no fault build $ko (scripts/test.sh builds it)"
  mod_unload
  insmod "$ko" || fail "insmod $ko failed"
  adm -A -u "$VIP:53" -s rr
  adm -a -u "$VIP:53" -r "$RS1:5353" -m
  cap_start rwf "udp port 5353" rs1
  for n in 1 2 3; do
    echo "datagram $n" | in_ns cl1 timeout 5 socat -u - UDP:"$VIP:53",sourceport=$((40100 + n))
  done
  nap 1
  cap_stop rwf
  at_rs=$(cap_count rwf)
  expect_eq "$(drops rewrite_failures)" 3 "rewrite_failures after 3 datagrams"
  expect_eq "$at_rs" 0 "datagrams captured at rs1"
  expect_eq "$(ipvsdadm --defense --json | jq -r .drops.rewrite_failures)" 3 \
    "rewrite_failures in ipvsdadm --defense --json"
  diag "fault build: 3 datagrams, rewrite_failures 3, 0 at rs1"
}

run_test tcp_rr_split tcp_rr_split
run_test second_client_address second_client_address
run_test wrr_3_to_1_sequence wrr_3_to_1_sequence
run_test mh_same_server_per_client mh_same_server_per_client
run_test udp_both_servers udp_both_servers
run_test connection_listing connection_listing
run_test service_stats service_stats
run_test transfer_2mb_whole transfer_2mb_whole
run_test per_real_server_counters per_real_server_counters
run_test zero_service_and_all zero_service_and_all
run_test delete_and_edit_real_server_under_traffic delete_and_edit_real_server_under_traffic
run_test rewrite_failure_dropped_and_counted rewrite_failure_dropped_and_counted
finish
