#!/usr/bin/env bash
# What the director does to a packet it sends on to a real server, as ip_forward and IPVS
# do: no socket from early demux (a TIME_WAIT socket of the director's, carried into the
# fq qdisc, is read and written as a full socket), no receive timestamp (which fq would
# read as a departure time beyond its horizon, and drop), and the TTL decremented, a TTL
# of 1 answered with ICMP time exceeded.
#
# Topology: lib.sh's, with the fq qdisc on br-rs (the director's device toward the real
# servers; the bridge itself clears timestamps before its ports, so fq sits on it).
. "$(dirname "$0")/lib.sh"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
tc qdisc add dev br-rs root fq || fail "could not add fq on br-rs"

# Packets sent and dropped by the qdisc on br-rs ("Sent B bytes P pkt (dropped D, ...").
fq_counts() {
  tc -s qdisc show dev br-rs | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt (dropped \([0-9]*\),.*/\1 \2/p' |
    head -1
}

time_wait_socket_reused() {
  local port=40080 ans
  # The director itself serves VIP:80 once and closes first: its socket for
  # cl1:40080 <-> VIP:80 stays in TIME_WAIT.
  socat -T 10 TCP-LISTEN:80,bind="$VIP",reuseaddr SYSTEM:"echo director" >/dev/null 2>&1 &
  wait_listen - 80
  # The client's end of data comes 3 s later, after the director's FIN: the director
  # closes first.
  ans=$(sleep 3 | in_ns cl1 timeout 20 socat -t 10 - TCP:"$VIP:80",sourceport=$port,reuseaddr 2>&1)
  expect_eq "$ans" "director" "the director's own server on VIP:80"
  ss -Htan state time-wait "( sport = :80 and dport = :$port )" | grep -q . ||
    fail "no TIME_WAIT socket for VIP:80 <-> cl1:$port on the director"
  # Now VIP:80 is a service: the new connection's SYN finds that TIME_WAIT socket in early
  # demux, and must leave without it.
  "$IPVSDADM" -A -t "$VIP:80" -s rr && "$IPVSDADM" -a -t "$VIP:80" -r "$RS1:8080" -m ||
    fail "could not configure the service"
  ans=$(in_ns cl1 timeout 20 socat -t 10 - TCP:"$VIP:80",sourceport=$port,reuseaddr,connect-timeout=10 </dev/null 2>&1)
  expect_eq "$ans" "rs1 $CL1" "a connection from the port of the director's TIME_WAIT socket"
  diag "TIME_WAIT socket for VIP:80 <-> cl1:$port, fq on br-rs: the new connection got 'rs1 $CL1'"
}

timestamping_socket() {
  local i ok=0 sent0 drops0 sent drops
  # Any socket asking for receive timestamps makes the stack stamp every packet it receives
  # (with the time of day); a UDP datagram carries no departure time of its own, so that
  # stamp is what fq would read. The requests start once the socket exists.
  python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
s.bind(("127.0.0.1", 5999))
time.sleep(600)' &
  wait_listen - 5999 u
  sleep 1
  read -r sent0 drops0 < <(fq_counts)
  [ -n "$drops0" ] || fail "tc shows no counters for fq on br-rs"
  for i in 1 2 3 4 5; do
    case "$(udp_req cl2 53)" in "rs1 $CL2") ok=$((ok + 1)) ;; esac
  done
  case "$(tcp_req cl1 80)" in "rs1 $CL1") ok=$((ok + 1)) ;; esac
  read -r sent drops < <(fq_counts)
  tc -s qdisc show dev br-rs | sed 's/^/# /'
  expect_eq "$((drops - drops0))" 0 "fq drops with a timestamping socket open"
  expect_eq "$ok" 6 "requests through fq with a timestamping socket open (5 UDP, 1 TCP)"
  [ $((sent - sent0)) -ge 8 ] || fail "only $((sent - sent0)) packets crossed fq"
  diag "a SO_TIMESTAMPNS socket open on the director: 6 of 6 requests, $((sent - sent0)) packets through fq, none dropped"
}

ttl() {
  local got te
  cap_start ttl "tcp[tcpflags] & tcp-syn != 0 and src $CL1 and dst port 8080" rs1 rs2
  cap_start te "icmp[icmptype] == icmp-timxceed" cl1
  in_ns cl1 hping3 -q -S -p 80 -s 41000 -t 1 -c 1 "$VIP" >/dev/null 2>&1
  sleep 1
  cap_stop ttl; cap_stop te
  expect_eq "$(cap_count ttl)" 0 "TTL-1 SYNs that reached a real server"
  te=$(cap_count te)
  cap_print te | sed 's/^/# /'
  [ "$te" -ge 1 ] || fail "the client got no ICMP time exceeded for its TTL-1 SYN"
  cap_start ttl "tcp[tcpflags] & tcp-syn != 0 and src $CL1 and dst port 8080" rs1 rs2
  in_ns cl1 hping3 -q -S -p 80 -s 42000 -t 5 -c 1 "$VIP" >/dev/null 2>&1
  sleep 1
  cap_stop ttl
  got=$(for f in /tmp/ttl.rs1.pcap /tmp/ttl.rs2.pcap; do tcpdump -nvr "$f" 2>/dev/null; done |
    sed -n 's/.*ttl \([0-9]*\),.*/\1/p' | head -1)
  expect_eq "$got" 4 "TTL at the real server of a SYN sent with TTL 5"
  diag "TTL 1: dropped, ICMP time exceeded to the client ($te); TTL 5 arrives as 4"
}

"$IPVSDADM" -A -u "$VIP:53" -s rr && "$IPVSDADM" -a -u "$VIP:53" -r "$RS1:5353" -m ||
  fail "could not configure the UDP service"
time_wait_socket_reused
timestamping_socket
ttl
