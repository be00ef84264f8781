#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The LOCAL_IN hook counts packets from a client namespace to the director, the FORWARD hook
# counts packets the director routes between a client and a real server.
. "$(dirname "$0")/lib.sh"
plan 3
mod_unload; topo_setup; mod_load
trap 'mod_unload; topo_cleanup' EXIT

client_reaches_director_and_rs1() {
  in_ns cl1 ping -c 1 -W 5 "$DIR_CL" >/dev/null || fail "client cannot reach the director"
  in_ns cl1 ping -c 1 -W 5 "$RS1" >/dev/null || fail "client cannot reach rs1 through the director"
}

local_in_and_local_out_counts() {
  local li0 lib0 lo0 li1 lib1 lo1
  li0=$(sc local_in_packets); lib0=$(sc local_in_bytes); lo0=$(sc local_out_packets)
  in_ns cl1 ping -q -c 10 -i 0.05 -s 100 "$VIP" >/dev/null || fail "ping to the VIP failed"
  li1=$(sc local_in_packets); lib1=$(sc local_in_bytes)
  expect_ge $((li1 - li0)) 10 "LOCAL_IN packets for 10 echo requests"
  # Each echo request is 20 (IP) + 8 (ICMP) + 100 bytes.
  expect_ge $((lib1 - lib0)) 1280 "LOCAL_IN bytes for 10 echo requests"
  diag "LOCAL_IN: +$((li1 - li0)) packets, +$((lib1 - lib0)) bytes for 10 pings"
  lo1=$(sc local_out_packets)
  expect_ge $((lo1 - lo0)) 10 "LOCAL_OUT packets for 10 echo replies"
  diag "LOCAL_OUT: +$((lo1 - lo0)) packets (the director's echo replies)"
}

forward_counts() {
  local fw0 fwb0 fw1 fwb1
  fw0=$(sc forward_packets); fwb0=$(sc forward_bytes)
  in_ns cl1 ping -q -c 10 -i 0.05 -s 100 "$RS1" >/dev/null || fail "ping to rs1 failed"
  fw1=$(sc forward_packets); fwb1=$(sc forward_bytes)
  # 10 requests and 10 replies cross the director.
  expect_ge $((fw1 - fw0)) 20 "FORWARD packets for 10 pings through the director"
  expect_ge $((fwb1 - fwb0)) 2560 "FORWARD bytes for 10 pings through the director"
  [ $((fw1 - fw0)) -le 40 ] || fail "FORWARD counted $((fw1 - fw0)) packets for 20"
  diag "FORWARD: +$((fw1 - fw0)) packets, +$((fwb1 - fwb0)) bytes for 10 pings"
}

run_test client_reaches_director_and_rs1 client_reaches_director_and_rs1
run_test local_in_and_local_out_counts local_in_and_local_out_counts
run_test forward_counts forward_counts
finish
