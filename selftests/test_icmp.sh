#!/usr/bin/env bash
# ICMP errors about tracked connections are translated both ways: a real server's "port
# unreachable" about a client's datagram reaches the client as coming from VIP:port (its
# connected socket sees ECONNREFUSED), and a client's "port unreachable" about a reply
# reaches the real server with the quoted reply translated back.
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
sleep 1; cap_stop icmp
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
