#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# ICMP errors about tracked connections are translated both ways: a real server's "port
# unreachable" about a client's datagram reaches the client as coming from VIP:port (its
# connected socket sees ECONNREFUSED), and a client's "port unreachable" about a reply
# reaches the real server with the quoted reply translated back. A real server's error about
# a request without an entry is a zombie: dropped, never seen by the client.
. "$(dirname "$0")/lib.sh"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
"$IPVSDADM" -A -u "$VIP:54" -s rr
"$IPVSDADM" -a -u "$VIP:54" -r "$RS1:5454" -m   # nothing listens on rs1:5454
"$IPVSDADM" -A -u "$VIP:53" -s rr
"$IPVSDADM" -a -u "$VIP:53" -r "$RS1:5353" -m

# Server side: rs1 answers port unreachable; the client must see it as from the VIP.
out=$(echo hi | in_ns cl1 timeout 10 socat -t 4 -T 4 - UDP:"$VIP:54" 2>&1)
case "$out" in *"Connection refused"*) ;; *) fail "the client did not see the real server's port unreachable: '$out'";; esac
diag "rs1's port unreachable reached the client as from $VIP:54: '${out##*E }'"

# Client side: after an exchange, rs1 sends one more datagram to the client's (now closed)
# port; the client's port unreachable goes to the VIP and must reach rs1, translated.
udp_req cl1 53 >/dev/null
cport=$("$IPVSDADM" -L -n -c | awk -v vip="$VIP:53" '!f && $1 == "UDP" && $5 == vip { n = split($4, a, ":"); print a[n]; f = 1 }')
[ -n "$cport" ] || fail "no UDP entry for $VIP:53 after a request"
cap_start icmp icmp rs1
echo late | in_ns rs1 timeout 5 socat -u - UDP:"$CL1:$cport",sourceport=5353,reuseaddr
nap 1; cap_stop icmp
seen=$(cap_print icmp)
echo "$seen" | sed 's/^/#   /'
echo "$seen" | grep -q "$CL1 > $RS1: ICMP $CL1 udp port $cport unreachable" ||
  fail "rs1 did not get the client's port unreachable, translated"
diag "the client's port unreachable reached rs1 translated (quote: $RS1:5353 -> $CL1:$cport)"

# A local real server (one of the director's own addresses): the director's stack sends
# the port unreachable itself, through LOCAL_OUT; it must reach the client translated too.
"$IPVSDADM" -A -u "$VIP:55" -s rr
"$IPVSDADM" -a -u "$VIP:55" -r "$DIR_RS:5455" -m   # nothing listens on the director's 5455
cap_start licmp icmp cl1
out=$(echo hi | in_ns cl1 timeout 10 socat -t 4 -T 4 - UDP:"$VIP:55" 2>&1)
cap_stop licmp
seen=$(cap_print licmp)
echo "$seen" | sed 's/^/#   /'
case "$out" in *"Connection refused"*) ;; *) fail "the client did not see the local real server's port unreachable: '$out'";; esac
echo "$seen" | grep -q "$VIP > $CL1: ICMP $VIP udp port 55 unreachable" ||
  fail "the client's capture shows no port unreachable from $VIP about port 55"
diag "the director's own port unreachable for local real server $DIR_RS:5455 reached the client as from $VIP:55"

# A client's port unreachable about a reply from a local real server: translated and
# delivered to the server's socket (its connected socket sees ECONNREFUSED), not dropped
# as a route error. The server answers 2 s late, after the client has closed its socket.
"$IPVSDADM" -A -u "$VIP:56" -s rr
"$IPVSDADM" -a -u "$VIP:56" -r "$DIR_RS:5656" -m
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
expect_eq "$(cat /tmp/icmp.local)" refused "the local real server's socket after the client's port unreachable"
expect_eq "$(drops route_errors)" "$r0" "route_errors"
diag "the client's port unreachable about a local real server's reply reached its socket"

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
