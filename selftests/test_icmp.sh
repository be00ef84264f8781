#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# ICMP errors about tracked connections are translated both ways: a real server's "port
# unreachable" about a client's datagram reaches the client as coming from VIP:port (its
# connected socket sees ECONNREFUSED), and a client's "port unreachable" about a reply
# reaches the real server with the quoted reply translated back. A real server's error about
# a request without an entry is a zombie: dropped, never seen by the client.
. "$(dirname "$0")/lib.sh"
plan 6
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
# Checksums are read from captures: with the veths' offloads on, a sender leaves a UDP
# checksum partial (the receiver trusts it), which a capture shows as wrong.
for ns in cl1 rs1; do
  in_ns $ns ethtool -K eth0 tx off rx off >/dev/null || fail "ethtool: offloads of $ns stay on"
done
adm -A -u "$VIP:54" -s rr
adm -a -u "$VIP:54" -r "$RS1:5454" -m   # nothing listens on rs1:5454
adm -A -u "$VIP:53" -s rr
adm -a -u "$VIP:53" -r "$RS1:5353" -m
adm -A -u "$VIP:55" -s rr
adm -a -u "$VIP:55" -r "$DIR_RS:5455" -m   # nothing listens on the director's 5455
adm -A -u "$VIP:56" -s rr
adm -a -u "$VIP:56" -r "$DIR_RS:5656" -m

# Server side: rs1 answers port unreachable; the client must see it as from the VIP. Both
# ends are captured: the datagram must reach rs1:5454 (a director ignoring the service
# would answer port unreachable itself, from the VIP, and pass a weaker check), rs1's
# error must quote it untranslated, and the client's copy must come from the VIP and
# quote VIP:54, every checksum valid.
server_port_unreachable() {
  local out at_rs at_cl q
  cap_start sicmp "icmp or udp port 5454 or udp port 54" cl1 rs1
  out=$(echo hi | in_ns cl1 timeout 10 socat -t 4 -T 4 - UDP:"$VIP:54" 2>&1)
  cap_stop sicmp
  at_rs=$(cap_verbose sicmp rs1); at_cl=$(cap_verbose sicmp cl1)
  echo "$at_rs" | sed 's/^/#   rs1: /'; echo "$at_cl" | sed 's/^/#   cl1: /'
  case "$out" in *"Connection refused"*) ;; *) fail "the client did not see the real server's port unreachable: '$out'";; esac
  echo "$at_rs" | grep -qE "$CL1\.[0-9]+ > $RS1\.5454: .*UDP" ||
    fail "rs1 never got the client's datagram for $RS1:5454"
  echo "$at_rs" | grep -q "$RS1 > $CL1: ICMP $RS1 udp port 5454 unreachable" ||
    fail "rs1 sent no port unreachable for 5454"
  echo "$at_cl" | grep -q "$VIP > $CL1: ICMP $VIP udp port 54 unreachable" ||
    fail "the client's port unreachable is not from $VIP about port 54"
  q=$(echo "$at_cl" | grep -E "$CL1\.[0-9]+ > $VIP\.54: " | tail -1)
  [ -n "$q" ] || fail "the client's port unreachable does not quote its datagram to $VIP:54"
  echo "$at_cl" | grep -qE "$RS1|5454" && fail "the client saw the real server's address or port"
  checksums_ok "$at_rs" "rs1's capture"
  checksums_ok "$at_cl" "the client's capture"
  diag "rs1's port unreachable reached the client as from $VIP:54, quoting '${q## }'; checksums valid at both ends"
}

# Client side: after an exchange, rs1 sends one more datagram to the client's (now closed)
# port; the client's port unreachable goes to the VIP and must reach rs1, translated.
client_port_unreachable() {
  local cport seen
  udp_req cl1 53 >/dev/null
  cport=$(ipvsdadm -L -n -c | awk -v vip="$VIP:53" '!f && $1 == "UDP" && $5 == vip { n = split($4, a, ":"); print a[n]; f = 1 }')
  [ -n "$cport" ] || fail "no UDP entry for $VIP:53 after a request"
  cap_start icmp icmp rs1
  echo late | in_ns rs1 timeout 5 socat -u - UDP:"$CL1:$cport",sourceport=5353,reuseaddr
  nap 1; cap_stop icmp
  seen=$(cap_verbose icmp rs1)
  echo "$seen" | sed 's/^/#   /'
  echo "$seen" | grep -q "$CL1 > $RS1: ICMP $CL1 udp port $cport unreachable" ||
    fail "rs1 did not get the client's port unreachable, translated"
  echo "$seen" | grep -qE "$RS1\.5353 > $CL1\.$cport: " ||
    fail "the client's port unreachable at rs1 does not quote $RS1:5353 -> $CL1:$cport"
  checksums_ok "$seen" "rs1's capture"
  diag "the client's port unreachable reached rs1 translated (quote: $RS1:5353 -> $CL1:$cport), checksums valid"
}

# The same client's port unreachable while the director has no usable route to rs1 (a
# prohibit route): the route rule holds for ICMP errors too. Dropped, not a packet at rs1,
# counted under route_errors and logged (rate-limited) as "ICMP error dropped".
client_error_without_route() {
  local cport errs0 line lines0 rpf_all rpf_br
  line="no usable route to real server $RS1:5353 (EACCES): ICMP error dropped"
  udp_req cl1 53 >/dev/null
  cport=$(ipvsdadm -L -n -c | awk -v vip="$VIP:53" '!f && $1 == "UDP" && $5 == vip { n = split($4, a, ":"); print a[n]; f = 1 }')
  [ -n "$cport" ] || fail "no UDP entry for $VIP:53 after a request"
  # rs1's late datagram must still reach the client: no reverse-path filter on its way in.
  read -r rpf_all < /proc/sys/net/ipv4/conf/all/rp_filter; read -r rpf_br < /proc/sys/net/ipv4/conf/br-rs/rp_filter
  echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 0 > /proc/sys/net/ipv4/conf/br-rs/rp_filter
  ip route replace prohibit "$RS1/32"
  errs0=$(drops route_errors); lines0=$(dmesg | grep -c "$line")
  cap_start icmpn icmp rs1
  cap_start late "udp and src host $VIP and src port 53" cl1
  echo late | in_ns rs1 timeout 5 socat -u - UDP:"$CL1:$cport",sourceport=5353,reuseaddr
  nap 1; cap_stop icmpn late
  ip route del prohibit "$RS1/32"
  echo "$rpf_all" > /proc/sys/net/ipv4/conf/all/rp_filter; echo "$rpf_br" > /proc/sys/net/ipv4/conf/br-rs/rp_filter
  expect_eq "$(cap_count late)" 1 "rs1's late datagram at the client"
  expect_eq "$(cap_count icmpn)" 0 "ICMP packets at rs1 while the director has no route to it"
  expect_eq "$(drops route_errors)" $((errs0 + 1)) "route_errors after one client error for rs1"
  [ "$(dmesg | grep -c "$line")" -gt "$lines0" ] || fail "no log line '$line'"
  diag "without a route to rs1 the client's port unreachable was dropped, counted and logged"
}

# A local real server (one of the director's own addresses): the director's stack sends
# the port unreachable itself, through LOCAL_OUT; it must reach the client translated too.
local_server_port_unreachable() {
  local out seen
  cap_start licmp icmp cl1
  out=$(echo hi | in_ns cl1 timeout 10 socat -t 4 -T 4 - UDP:"$VIP:55" 2>&1)
  cap_stop licmp
  seen=$(cap_print licmp)
  echo "$seen" | sed 's/^/#   /'
  case "$out" in *"Connection refused"*) ;; *) fail "the client did not see the local real server's port unreachable: '$out'";; esac
  echo "$seen" | grep -q "$VIP > $CL1: ICMP $VIP udp port 55 unreachable" ||
    fail "the client's capture shows no port unreachable from $VIP about port 55"
  diag "the director's own port unreachable for local real server $DIR_RS:5455 reached the client as from $VIP:55"
}

# A client's port unreachable about a reply from a local real server: translated and
# delivered to the server's socket (its connected socket sees ECONNREFUSED), not dropped
# as a route error. The server answers 2 s late, after the client has closed its socket.
local_server_gets_client_error() {
  local srv r0
  python3 -S -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5656))
_, peer = s.recvfrom(100)
s.connect(peer)
time.sleep(2)
s.send(b"late")
s.settimeout(10)
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")' "$DIR_RS" > /tmp/icmp.local 2>&1 &
  srv=$!
  wait_listen - 5656 u
  r0=$(drops route_errors)
  in_ns cl1 python3 -S -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"hi", (sys.argv[1], 56))
s.close()' "$VIP"
  wait $srv
  expect_eq "$(< /tmp/icmp.local)" refused "the local real server's socket after the client's port unreachable"
  expect_eq "$(drops route_errors)" "$r0" "route_errors"
  diag "the client's port unreachable about a local real server's reply reached its socket"
}

# A real server's ICMP error about a request the director has no entry for: when the quoted
# destination is a configured real server address:port (rs1:5454 of VIP:54) it is a
# zombie, dropped and counted, and the client never sees the server's address; quoting a
# port of no real server (rs1:7777) it is not ours and passes untouched.
icmp_error_from_rs1() { # quoted destination port
  in_ns rs1 python3 -S -c 'import socket, struct, sys
def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
cl, rs, dport = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2]), int(sys.argv[3])
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + 20, 0x4242, 0, 63, 17, 0, cl, rs)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
quote = ip + struct.pack("!HHHH", 41999, dport, 28, 0)
msg = struct.pack("!BBHI", 3, 3, 0, 0) + quote
msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(msg, (sys.argv[1], 0))' "$CL1" "$RS1" "$1" || fail "could not send rs1's ICMP error"
}
zombie_icmp_error() {
  local z0 seen
  z0=$(drops zombie_replies)
  cap_start zicmp "icmp and src host $RS1" cl1
  icmp_error_from_rs1 5454
  icmp_error_from_rs1 7777
  cap_stop zicmp
  seen=$(cap_print zicmp)
  echo "$seen" | sed 's/^/#   /'
  expect_eq "$(echo "$seen" | grep -c "udp port 5454 unreachable")" 0 \
    "rs1's errors about a request to rs1:5454 without an entry seen at the client"
  expect_eq "$(echo "$seen" | grep -c "udp port 7777 unreachable")" 1 \
    "rs1's errors about a request to rs1:7777 (no real server) seen at the client"
  expect_eq "$(drops zombie_replies)" $((z0 + 1)) "zombie_replies"
  diag "rs1's ICMP error quoting $CL1:41999 -> $RS1:5454 without an entry dropped as a zombie; quoting port 7777, passed untouched"
}

run_test server_port_unreachable server_port_unreachable
run_test client_port_unreachable client_port_unreachable
run_test client_error_without_route client_error_without_route
run_test local_server_port_unreachable local_server_port_unreachable
run_test local_server_gets_client_error local_server_gets_client_error
run_test zombie_icmp_error zombie_icmp_error
finish
