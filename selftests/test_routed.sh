#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Routes through a gateway, and where a real server's packets come from:
# - a real server one router away (rs3 behind gw), on a specific route through gw: NAT
#   works end to end;
# - the same server with only the default route: dropped, counted, ICMP host unreachable
#   to the client, nothing for it at the gateway; the same with an on-link default route
#   (no gateway);
# - a fragmentation-needed for a TCP connection from the router beyond the director (gw,
#   not the real server) reaches the client translated (from the VIP, quoting VIP:81, as
#   IPVS does), and the transfer completes;
# - resurrect=1 with rp_filter=0: a SYN+ACK in rs1's name spoofed from the clients' side
#   opens no entry (and earns rs1 no reset); the same from rs1 itself brings it back.
#   (Both are addressed to gw, so that the director routes them.)
#
# Topology: lib.sh's, plus rs3 behind gw, outside every network the director is on:
#   director 203.0.113.1/25 ──veth── 203.0.113.2/25 ns gw (forwarding) ──veth── ns rs3 203.0.113.200/32
# with "203.0.113.200/32 via 203.0.113.2" on the director, or only a default route.
. "$(dirname "$0")/lib.sh"
plan 5
RS3=203.0.113.200
RS3_NS=rs3-$NS_SUFFIX
CRAFT="python3 -S $IPVSD_TOP/selftests/craft.py"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; ip route del default 2>/dev/null; ip route del $RS3/32 2>/dev/null
  ip netns del $RS3_NS 2>/dev/null; mod_unload; topo_cleanup' EXIT
ip netns add "$RS3_NS" || fail "could not add namespace $RS3_NS"
ip -n "$(ns_name gw)" -batch - <<EOF || fail "topology: gw's second leg"
link add eth1 type veth peer name eth0 netns $RS3_NS
link set eth1 up
route add $RS3/32 dev eth1
route add 192.0.2.0/24 via $DIR_GW
EOF
in_ns gw sysctl -qw net.ipv4.ip_forward=1 || fail "gw: no forwarding"
ip -n "$RS3_NS" -batch - <<EOF || fail "topology: rs3"
link set lo up
addr add $RS3/32 dev eth0
link set eth0 up
route add $GW dev eth0
route add default via $GW
EOF
rs_start
rm -f /tmp/rs-ready.rs3
"$LOADGEN" answer --netns "$RS3_NS" --name rs3 --port 8080 --seconds 3600 --ready /tmp/rs-ready.rs3 \
  >/dev/null 2>&1 &
wait_file /tmp/rs-ready.rs3 || fail "rs3's server did not start"
adm -A -t "$VIP:80" -s rr
adm -a -t "$VIP:80" -r "$RS3:8080" -m

# A scenario that failed may have left its route to rs3 behind: the next ones start
# without it.
no_rs3_route() {
  printf '%s\n' "route del $RS3/32" "route del default" | ip -force -batch - >/dev/null 2>&1
  return 0
}

specific_route() {
  local ans
  ip route add "$RS3/32" via "$GW" || fail "could not add the route to rs3"
  ans=$(tcp_req cl1 80)
  expect_eq "$ans" "rs3 $CL1" "a connection to a real server behind a router"
  ans=$(tcp_req cl2 80)
  expect_eq "$ans" "rs3 $CL2" "a second client"
  diag "rs3 one router away, specific route via $GW: '$ans'"
  ip route del "$RS3/32"
}

default_route_only() {
  local errs0 ans gw_seen unreach
  no_rs3_route
  ip route add default via "$GW" || fail "could not add the default route"
  errs0=$(drops route_errors)
  cap_start dflt "tcp port 8080" gw
  cap_start unr "icmp[icmptype] == icmp-unreach" cl1
  ans=$(in_ns cl1 timeout 10 socat -t 3 - TCP:"$VIP:80",connect-timeout=3 </dev/null 2>&1)
  cap_stop dflt unr
  gw_seen=$(cap_count dflt); unreach=$(cap_count unr)
  case "$ans" in "rs3 "*) fail "the connection succeeded through the default route" ;; esac
  expect_eq "$gw_seen" 0 "packets for port 8080 at the gateway"
  [ "$(drops route_errors)" -gt "$errs0" ] || fail "route_errors did not grow"
  [ "$unreach" -ge 1 ] || fail "the client got no ICMP unreachable"
  cap_print unr | head -2 | sed 's/^/# /'
  diag "only the default route to rs3: dropped, route_errors $errs0 -> $(drops route_errors)," \
    "$unreach ICMP unreachable to the client, nothing at the gateway"
  ip route del default
}

# A default route without a gateway ("default dev v-gw") has prefix length 0 all the same:
# no route was configured for rs3, and its packets are not sent on the link.
default_route_on_link() {
  local errs0 ans gw_seen
  no_rs3_route
  ip route add default dev v-gw || fail "could not add the on-link default route"
  errs0=$(drops route_errors)
  cap_start onlink "host $RS3" gw
  ans=$(in_ns cl1 timeout 10 socat -t 3 - TCP:"$VIP:80",connect-timeout=3 </dev/null 2>&1)
  cap_stop onlink
  gw_seen=$(cap_count onlink)
  case "$ans" in "rs3 "*) fail "the connection succeeded through the on-link default route" ;; esac
  [ "$(drops route_errors)" -gt "$errs0" ] || fail "route_errors did not grow (on-link default route)"
  expect_eq "$gw_seen" 0 "packets or ARP requests for rs3 on the gateway's link"
  diag "only 'default dev v-gw': dropped, route_errors $errs0 -> $(drops route_errors), nothing on the link"
  ip route del default
}

# The hop beyond the director toward rs3 (gw's eth1) has MTU 1000, the ends 1500: gw answers
# the client's 1460-byte segments with fragmentation-needed from its own address, quoting
# client -> rs3:8081. The director must translate it as IPVS does (ip_vs_nat_icmp): from
# the VIP, quoting client -> VIP:81; or the client's TCP never learns the path MTU and the
# transfer stalls.
pmtu_from_beyond() {
  local ans seen route
  no_rs3_route
  ip route add "$RS3/32" via "$GW" || fail "could not add the route to rs3"
  adm -A -t "$VIP:81" -s rr
  adm -a -t "$VIP:81" -r "$RS3:8081" -m
  in_ns "$RS3_NS" socat -t 10 TCP-LISTEN:8081,fork,reuseaddr SYSTEM:'wc -c' >/dev/null 2>&1 &
  wait_listen "$RS3_NS" 8081
  ip -n "$(ns_name gw)" link set eth1 mtu 1000 || fail "could not set gw's MTU toward rs3"
  cap_start pmtu "icmp" cl1
  ans=$(head -c 30000 /dev/zero | in_ns cl1 timeout 40 socat -t 20 - TCP:"$VIP:81",connect-timeout=10 2>&1)
  cap_stop pmtu
  ip -n "$(ns_name gw)" link set eth1 mtu 1500
  seen=$(cap_verbose pmtu cl1)
  echo "$seen" | head -4 | sed 's/^/# /'
  route=$(in_ns cl1 ip route get "$VIP")
  in_ns cl1 ip route flush cache
  echo "$seen" | grep -q "$VIP > $CL1: ICMP $VIP unreachable - need to frag (mtu 1000)" ||
    fail "no fragmentation-needed from $VIP about $VIP at the client"
  echo "$seen" | grep -qE "$CL1\.[0-9]+ > $VIP\.81: " ||
    fail "the client's fragmentation-needed does not quote its segment to $VIP:81"
  echo "$seen" | grep -qE "$RS3|$GW" && fail "the client saw rs3's or gw's address in an ICMP error"
  checksums_ok "$seen" "the client's capture"
  expect_eq "${ans//[[:space:]]/}" 30000 "bytes rs3 received from the client over the 1000-byte hop"
  [[ $route == *"mtu 1000"* ]] || fail "the client's route to the VIP did not learn MTU 1000: $route"
  diag "MTU 1000 one hop beyond the director: gw's fragmentation-needed reached the client from" \
    "$VIP quoting $VIP:81, its route learned mtu 1000, 30000 bytes arrived at rs3"
  adm -D -t "$VIP:81"
  ip route del "$RS3/32"
}

spoofed_server() {
  local z0 n
  adm -C
  ipvsdadm -A -t "$VIP:80" -s rr && ipvsdadm -a -t "$VIP:80" -r "$RS1:8080" -m ||
    fail "could not configure the service"
  sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
  sc_write resurrect 1 || fail "resurrect=1 refused"
  z0=$(drops zombie_replies)
  # From cl1, in rs1's name, to gw (routed by the director): it arrives on br-cl, not
  # where our route to rs1 leads.
  n=$(in_ns cl1 $CRAFT "$GW" 5555 --src-range "$RS1" 1 --sport 8080 tcp_synack) ||
    fail "craft.py failed"
  expect_eq "$n" 1 "spoofed segments sent"
  nap 1
  expect_eq "$(entries)" 0 "entries after a SYN+ACK spoofed in rs1's name from the clients' side"
  [ "$(drops zombie_replies)" -gt "$z0" ] || fail "the spoofed segment was not counted"
  # The same segment from rs1 itself is resurrected: the check above could see an entry.
  in_ns rs1 $CRAFT "$GW" 5556 --sport 8080 tcp_synack >/dev/null || fail "craft.py in rs1 failed"
  nap 1
  expect_eq "$(entries)" 1 "entries after the same SYN+ACK from rs1"
  sc_write resurrect 0
  diag "resurrect=1, rp_filter=0: spoofed from the clients' side: no entry; from rs1: resurrected"
}

run_test specific_route_to_rs3 specific_route
run_test default_route_only_dropped default_route_only
run_test on_link_default_route_dropped default_route_on_link
run_test pmtu_from_a_hop_beyond_the_director pmtu_from_beyond
run_test spoofed_server_segment_not_resurrected spoofed_server
finish
