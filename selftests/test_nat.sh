#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End to end through the VIP: TCP and UDP requests from clients reach both real servers
# (rr), with the client's address intact; replies come back from VIP:port; entries are
# listed with their state; counters add up; a 2 MB transfer arrives whole (checksums and
# offloads right); with the `rewrite` fault build, a packet whose headers cannot be
# rewritten is dropped and counted (rewrite_failures), never sent on.
. "$(dirname "$0")/lib.sh"
plan 9
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

tcp_rr_split() {
  local n1=0 n2=0 i ans
  for i in $(seq 1 10); do
    ans=$(tcp_req cl1 80)
    case "$ans" in
      "rs1 $CL1") n1=$((n1 + 1)) ;;
      "rs2 $CL1") n2=$((n2 + 1)) ;;
      *) fail "TCP request $i: unexpected answer '$ans'" ;;
    esac
  done
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
  for i in 1 2 3 4 5 6 7 8; do seq="$seq$(tcp_req cl1 8000 | cut -c3)"; done
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
  u1=$(udp_req cl1 53); u2=$(udp_req cl1 53)
  case "$u1$u2" in *rs1*rs2*|*rs2*rs1*) ;; *) fail "UDP answers '$u1' '$u2' not from both servers";; esac
  diag "UDP through $VIP:53: '$u1', '$u2'"
}

connection_listing() {
  local conns
  conns=$("$IPVSDADM" -L -n -c)
  echo "$conns" | sed 's/^/#   /'
  echo "$conns" | grep -qE "^TCP .* (TIME_WAIT|CLOSE|FIN_WAIT|CLOSE_WAIT|LAST_ACK|ESTABLISHED) +192.0.2.[23]:[0-9]+ +$VIP:[0-9]+ +198.51.100.[23]:8080" ||
    fail "no TCP entry in the connection listing"
  echo "$conns" | grep -qE "^UDP .*$CL1:[0-9]+ +$VIP:53 +198.51.100.[23]:5353" ||
    fail "no UDP entry in the connection listing"
}

# VIP:80 counts the 11 connections of tcp_rr_split and second_client_address.
service_stats() {
  local stats c
  stats=$("$IPVSDADM" -L -n --stats --json)
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
  expect_eq "$("$IPVSDADM" --defense --json | jq -r .drops.rewrite_failures)" 3 \
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
run_test rewrite_failure_dropped_and_counted rewrite_failure_dropped_and_counted
finish
