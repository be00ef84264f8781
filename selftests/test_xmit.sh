#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What the director does to a packet it sends on to a real server, as ip_forward and IPVS
# do: no socket from early demux (a TIME_WAIT socket of the director's, carried into the
# fq qdisc, is read and written as a full socket; nft's socket expression sees it), no receive timestamp (which fq would
# read as a departure time beyond its horizon, and drop), and the TTL decremented, a TTL
# of 1 answered with ICMP time exceeded; checksums right both ways, TCP and UDP, read from
# captures with the offloads off.
#
# Topology: lib.sh's, with the fq qdisc on br-rs (the director's device toward the real
# servers; the bridge itself clears timestamps before its ports, so fq sits on it). fq has
# a maxrate, which keeps every packet off its fast path: each one is classified by the
# socket it carries, and a TIME_WAIT socket there is read and written past its end
# (sk_pacing_status, sk_pacing_rate), which KASAN reports.
. "$(dirname "$0")/lib.sh"
plan 4
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; nft delete table ip xmit_sk 2>/dev/null; mod_unload; topo_cleanup' EXIT
rs_start
tc qdisc add dev br-rs root fq maxrate 10gbit || fail "could not add fq on br-rs"
adm -A -u "$VIP:53" -s rr
adm -a -u "$VIP:53" -r "$RS1:5353" -m

# Packets sent and dropped by the qdisc on br-rs ("Sent B bytes P pkt (dropped D, ...").
fq_counts() {
  tc -s qdisc show dev br-rs | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt (dropped \([0-9]*\),.*/\1 \2/p' |
    head -1
}

# VIP:80 -> rs1:8080: time_wait_socket_reused configures it once its TIME_WAIT socket
# exists; a later scenario adds it when that one did not get so far.
need_svc80() {
  "$IPVSDADM" -L -n -t "$VIP:80" >/dev/null 2>&1 && return 0
  adm -A -t "$VIP:80" -s rr
  adm -a -t "$VIP:80" -r "$RS1:8080" -m
}

time_wait_socket_reused() {
  local port=40080 ans i
  # The director itself serves VIP:80 once and closes first: its socket for
  # cl1:40080 <-> VIP:80 stays in TIME_WAIT.
  socat -T 10 TCP-LISTEN:80,bind="$VIP",reuseaddr SYSTEM:"echo director" >/dev/null 2>&1 &
  wait_listen - 80
  # The client closes only after it has read the director's end of data: the director
  # closes first, whatever emulation does to the timing.
  ans=$(in_ns cl1 timeout 30 python3 -S -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2])))
s.settimeout(20)
s.connect((sys.argv[1], 80))
data = b""
while (b := s.recv(100)):
    data += b
s.close()
print(data.decode().strip())' "$VIP" "$port" 2>&1)
  expect_eq "$ans" "director" "the director's own server on VIP:80"
  # The client's FIN may still be on its way when it returns: look for up to 10 s.
  for ((i = 1; i <= 50; i++)); do
    ss -Htan state time-wait "( sport = :80 and dport = :$port )" | grep -q . && break
    nap 0.2
  done
  ss -Htan state time-wait "( sport = :80 and dport = :$port )" | grep -q . ||
    fail "no TIME_WAIT socket for VIP:80 <-> cl1:$port on the director"
  # Now VIP:80 is a service: the new connection's SYN finds that TIME_WAIT socket in early
  # demux, and must leave without it.
  ipvsdadm -A -t "$VIP:80" -s rr && ipvsdadm -a -t "$VIP:80" -r "$RS1:8080" -m ||
    fail "could not configure the service"
  # nft's socket expression at LOCAL_OUT (where ip_local_out passes what we send) sees
  # only the socket a packet carries: count our packets to rs1, and those with a socket.
  nft -f - <<EOT || fail "could not add the nft counters"
table ip xmit_sk {
  chain out {
    type filter hook output priority 0;
    ip saddr $CL1 ip daddr $RS1 tcp dport 8080 counter
    ip saddr $CL1 ip daddr $RS1 tcp dport 8080 socket transparent 0 counter
  }
}
EOT
  ans=$(in_ns cl1 timeout 20 socat -t 10 - TCP:"$VIP:80",sourceport=$port,reuseaddr,connect-timeout=10 </dev/null 2>&1)
  expect_eq "$ans" "rs1 $CL1" "a connection from the port of the director's TIME_WAIT socket"
  local counts sent with_sk
  counts=$(nft list chain ip xmit_sk out | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
  nft delete table ip xmit_sk
  sent=$(echo "$counts" | sed -n 1p); with_sk=$(echo "$counts" | sed -n 2p)
  expect_ge "${sent:-0}" 3 "packets of the new connection sent to rs1"
  expect_eq "$with_sk" 0 "packets sent to rs1 still carrying the TIME_WAIT socket"
  diag "TIME_WAIT socket for VIP:80 <-> cl1:$port, fq on br-rs: the new connection got 'rs1 $CL1'; $sent packets to rs1, none with a socket"
}

timestamping_socket() {
  local i ok=0 sent0 drops0 sent drops
  need_svc80
  # Any socket asking for receive timestamps makes the stack stamp every packet it receives
  # (with the time of day); a UDP datagram carries no departure time of its own, so that
  # stamp is what fq would read. The requests start once the socket exists.
  python3 -S -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
s.bind(("127.0.0.1", 5999))
time.sleep(600)' &
  wait_listen - 5999 u
  nap 1
  sysctl net.core.netdev_tstamp_prequeue | sed 's/^/# /'
  read -r sent0 drops0 < <(fq_counts)
  [ -n "$drops0" ] || fail "tc shows no counters for fq on br-rs"
  ok=$(udp_req cl2 53 5 | grep -cx "rs1 $CL2")
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
  need_svc80
  cap_start ttl "tcp[tcpflags] & tcp-syn != 0 and src $CL1 and dst port 8080" rs1 rs2
  cap_start te "icmp[icmptype] == icmp-timxceed" cl1
  in_ns cl1 hping3 -q -S -p 80 -s 41000 -t 1 -c 1 "$VIP" >/dev/null 2>&1
  nap 1
  cap_stop ttl te
  expect_eq "$(cap_count ttl)" 0 "TTL-1 SYNs that reached a real server"
  te=$(cap_count te)
  cap_print te | sed 's/^/# /'
  [ "$te" -ge 1 ] || fail "the client got no ICMP time exceeded for its TTL-1 SYN"
  cap_start ttl "tcp[tcpflags] & tcp-syn != 0 and src $CL1 and dst port 8080" rs1 rs2
  in_ns cl1 hping3 -q -S -p 80 -s 42000 -t 5 -c 1 "$VIP" >/dev/null 2>&1
  nap 1
  cap_stop ttl
  got=$(for f in /tmp/ttl.rs1.pcap /tmp/ttl.rs2.pcap; do tcpdump -nvr "$f" 2>/dev/null; done |
    sed -n 's/.*ttl \([0-9]*\),.*/\1/p' | head -1)
  expect_eq "$got" 4 "TTL at the real server of a SYN sent with TTL 5"
  diag "TTL 1: dropped, ICMP time exceeded to the client ($te); TTL 5 arrives as 4"
}

# With the offloads of cl1 and rs1 off, both compute full checksums, which the director's
# incremental updates must keep right: a TCP and a UDP request through the VIP, each
# captured at both ends and checked by tcpdump -vv (IP, TCP, UDP). Last: the offloads stay
# off.
checksums_valid_both_ways() {
  local ns text at_rs at_cl
  need_svc80
  for ns in cl1 rs1; do
    in_ns $ns ethtool -K eth0 tx off rx off >/dev/null || fail "ethtool: offloads of $ns stay on"
  done
  cap_start ck "tcp port 8080 or tcp port 80 or udp port 5353 or udp port 53" cl1 rs1
  expect_eq "$(tcp_req cl1 80)" "rs1 $CL1" "TCP request through the VIP"
  expect_eq "$(udp_req cl1 53)" "rs1 $CL1" "UDP request through the VIP"
  cap_stop ck
  at_rs=$(cap_verbose ck rs1); at_cl=$(cap_verbose ck cl1)
  checksums_ok "$at_rs" "rs1's capture"
  checksums_ok "$at_cl" "cl1's capture"
  # Proof that tcpdump checked: the handshake, the data and the close, and both datagrams.
  for ns in rs1 cl1; do
    text=$at_rs; [ $ns = cl1 ] && text=$at_cl
    [ "$(echo "$text" | grep -c 'cksum 0x[0-9a-f]* (correct)')" -ge 6 ] ||
      fail "$ns: fewer than 6 TCP checksums checked: $(echo "$text" | head -3)"
    [ "$(echo "$text" | grep -c 'udp sum ok')" -ge 2 ] ||
      fail "$ns: the request and the reply datagram not both checked"
  done
  [ -z "$(echo "$at_cl" | grep -F "$RS1")" ] ||
    fail "cl1 saw a real server's address: $(echo "$at_cl" | grep -m1 -F "$RS1")"
  diag "TCP and UDP through the VIP: every checksum right at rs1 ($(echo "$at_rs" |
    grep -cE '\(correct\)|udp sum ok') checked) and at cl1 ($(echo "$at_cl" |
    grep -cE '\(correct\)|udp sum ok') checked)"
}

run_test time_wait_socket_not_carried time_wait_socket_reused
run_test rx_timestamp_not_carried timestamping_socket
run_test ttl_decremented ttl
run_test checksums_valid_both_ways checksums_valid_both_ways
finish
