#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Nothing from a real server leaves untranslated, with no conntrack (so no nf_defrag) in the
# director's namespace:
# - a UDP service whose real server answers with 3,000-byte datagrams, fragmented at the
#   server (MTU 1500): the director reassembles them, translates the whole datagram and
#   forwards it (fragmented again on the way out); the client receives whole replies from
#   the VIP, and a capture on the client's side sees no packet with a real server's source;
# - a malformed datagram from a real server's address:port (UDP length beyond the
#   datagram) is dropped and counted (malformed_udp_bad_length), never forwarded.
#
# Topology: lib.sh's. Runs before the tests that turn conntrack on.
. "$(dirname "$0")/lib.sh"
plan 2
CRAFT="python3 -S $IPVSD_TOP/selftests/craft.py"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
in_ns rs1 python3 -S -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5354))
while True:
    _, peer = s.recvfrom(100)
    s.sendto(b"x" * 3000, peer)' &
wait_listen rs1 5354 u
ipvsdadm -A -u "$VIP:54" -s rr && ipvsdadm -a -u "$VIP:54" -r "$RS1:5354" -m ||
  fail "could not configure the service"

fragmented_replies() {
  local got from_rs frags
  cap_start frag "src host $RS1 or src host $RS2 or (udp and src host $VIP)" cl1
  got=$(in_ns cl1 python3 -S -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.connect((sys.argv[1], 54))
for _ in range(3):
    s.send(b"hi")
    data, peer = s.recvfrom(65535)
    print(len(data), peer[0], peer[1])' "$VIP" 2>&1)
  cap_stop frag
  from_rs=$(cap_count frag "src host $RS1 or src host $RS2")
  frags=$(cap_count frag "src host $VIP and ip[6:2] & 0x3fff != 0")
  cap_print frag | head -4 | sed 's/^/# /'
  expect_eq "$(echo $got)" "3000 $VIP 54 3000 $VIP 54 3000 $VIP 54" "replies at the client"
  expect_eq "$from_rs" 0 "packets with a real server's source at the client"
  [ "$frags" -ge 6 ] || fail "only $frags fragments from the VIP at the client (3 datagrams of 3000 bytes)"
  diag "3 fragmented 3000-byte replies: whole at the client, from $VIP:54 ($frags fragments), none from a real server"
}

malformed_from_server() {
  local m0 seen
  m0=$(sc malformed_udp_bad_length)
  cap_start bad "src host $RS1" cl1
  in_ns rs1 $CRAFT "$CL1" 40000 --sport 5354 udp_bad_length >/dev/null || fail "craft.py failed"
  nap 1
  cap_stop bad
  seen=$(cap_count bad)
  expect_eq "$seen" 0 "malformed datagrams from rs1:5354 at the client"
  [ "$(sc malformed_udp_bad_length)" -gt "$m0" ] || fail "malformed_udp_bad_length did not grow"
  diag "a malformed datagram from rs1:5354: dropped and counted, nothing at the client"
}

run_test fragmented_replies_translated fragmented_replies
run_test malformed_from_server_dropped malformed_from_server
finish
