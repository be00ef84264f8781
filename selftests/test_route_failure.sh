#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# When the director's own route lookup to the real server fails (prohibit, unreachable,
# blackhole, no route, interface down), the packet is dropped and counted, the client is
# told (ICMP host unreachable), a rate-limited line names the server and the reason (the
# lookup's error), and NOTHING leaves through the default gateway.
. "$(dirname "$0")/lib.sh"
plan 9
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; ip route del default 2>/dev/null; mod_unload; topo_cleanup' EXIT
rs_start
ip route add default via "$GW"
adm -A -t "$VIP:80" -s rr
adm -a -t "$VIP:80" -r "$RS1:8080" -m
ok=0
for _ in 1 2 3; do case "$(tcp_req cl1 80)" in "rs1 "*) ok=1; break ;; esac; nap 1; done
[ $ok = 1 ] || fail "the service does not work before the test"

gw_rx() { ip netns exec "$(ns_name gw)" cat /sys/class/net/eth0/statistics/rx_packets; }
try_fail() { # what [reason in the log line]
  local before errs0 ans seen unreach
  # tcpdump on the gateway and on both real servers: not one packet for a real server's
  # port may appear on any of them; and on the client, for its ICMP host unreachable.
  cap_start rf "tcp port 8080" gw rs1 rs2
  cap_start unr "icmp[icmptype] == icmp-unreach and icmp[icmpcode] == 1" cl1
  before=$(gw_rx); errs0=$(drops route_errors)
  ans=$(tcp_req cl1 80)
  cap_stop rf unr
  seen=$(cap_count rf); unreach=$(cap_count unr)
  [ "$unreach" -ge 1 ] || fail "$1: the client got no ICMP host unreachable"
  [ "$seen" -eq 0 ] || { cap_print rf | sed 's/^/#   /'; fail "$1: $seen packets for port 8080 captured"; }
  case "$ans" in "rs1 "*) fail "$1: the connection succeeded";; esac
  [ "$(drops route_errors)" -gt "$errs0" ] || fail "$1: route_errors did not grow"
  # A few packets may be ARP or IPv4 from elsewhere; a leaked SYN and its retries would be
  # several: there must be no TCP at all toward the gateway.
  [ "$(gw_rx)" -eq "$before" ] || fail "$1: $(( $(gw_rx) - before )) packets reached the gateway"
  case "$ans" in *"No route to host"*|*"unreachable"*|*"refused"*) ;; *) diag "$1: client saw '$ans'";; esac
  if [ -n "${2:-}" ]; then
    dmesg | grep -q "no usable route to real server $RS1:8080 ($2): packet dropped" ||
      fail "$1: no log line naming $RS1:8080 and the reason ($2)"
  fi
  diag "$1: dropped, route_errors $errs0 -> $(drops route_errors), 0 packets captured at the gateway and the servers, $unreach host unreachable at the client: ${ans:0:60}"
}

# The route to a real server is cached between packets and checked on every use: under a
# steady UDP flow (one entry: one source port, 20 datagrams a second), a host route to rs1
# through the gateway takes the flow's next packets to the gateway and none to rs1; a
# prohibit route then drops them (route_errors, host unreachable at the client, nothing
# at rs1 or the gateway); without it they reach rs1 again. Each phase is captured after
# the change, so every packet in it was routed after the change.
route_change_under_traffic() {
  local pid errs0 errs at_rs1 at_gw n
  adm -A -u "$VIP:5353" -s rr
  adm -a -u "$VIP:5353" -r "$RS1:5353" -m
  "$LOADGEN" udp --netns "$(ns_name cl1)" --dst "$VIP:5353" --flows 1 --rate 20 --seconds 60 \
    >/dev/null 2>&1 &
  pid=$!
  cap_start rc1 "dst port 5353" rs1; nap 2; cap_stop rc1
  at_rs1=$(pcap_count /tmp/rc1.rs1.pcap) || fail "capture"
  [ "$at_rs1" -ge 10 ] || fail "before the change: $at_rs1 datagrams of the flow at rs1 in 2 s (20/s sent)"
  ip route replace "$RS1/32" via "$GW"
  cap_start rc2 "dst port 5353" rs1 gw; nap 2; cap_stop rc2
  at_rs1=$(pcap_count /tmp/rc2.rs1.pcap) && at_gw=$(pcap_count /tmp/rc2.gw.pcap) || fail "capture"
  [ "$at_rs1" = 0 ] || fail "route moved to the gateway: $at_rs1 datagrams still reached rs1 (a stale route)"
  [ "$at_gw" -ge 10 ] || fail "route moved to the gateway: $at_gw datagrams there in 2 s"
  diag "route via the gateway: $at_gw datagrams at the gateway, 0 at rs1"
  ip route replace prohibit "$RS1/32"
  errs0=$(drops route_errors)
  cap_start rc3 "dst port 5353" rs1 gw
  cap_start rc3u "icmp[icmptype] == icmp-unreach and icmp[icmpcode] == 1" cl1
  nap 2; cap_stop rc3 rc3u
  errs=$(( $(drops route_errors) - errs0 ))
  n=$(cap_count rc3) || fail "capture"
  [ "$n" = 0 ] || fail "prohibit route: $n datagrams reached rs1 or the gateway"
  [ "$errs" -ge 10 ] || fail "prohibit route: route_errors grew by $errs in 2 s (20/s sent)"
  n=$(cap_count rc3u) || fail "capture"
  [ "$n" -ge 1 ] || fail "prohibit route: no host unreachable at the client"
  ip route del prohibit "$RS1/32"
  cap_start rc4 "dst port 5353" rs1 gw; nap 2; cap_stop rc4
  at_rs1=$(pcap_count /tmp/rc4.rs1.pcap) || fail "capture"
  [ "$at_rs1" -ge 10 ] || fail "route back: $at_rs1 datagrams at rs1 in 2 s"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  adm -D -u "$VIP:5353"
  diag "prohibit: $errs route errors, nothing sent on, $n host unreachable; route back: $at_rs1 datagrams at rs1 in 2 s"
}

# A route of kind $1 to rs1 (replacing one a failed scenario may have left).
route_kind_fails() { # kind reason
  ip route replace $1 "$RS1/32"
  try_fail "$1 route" "$2"
  ip route del $1 "$RS1/32"
}

interface_down_fails() {
  ip link set br-rs down
  try_fail "real servers' interface down (default route left)"
  ip link set br-rs up
  nap 1
}

no_route_fails() {
  ip route del default
  ip route del 198.51.100.0/24 dev br-rs
  try_fail "no route at all and no default" ENETUNREACH
}

log_names_real_server() {
  dmesg | grep -q "no usable route to real server $RS1:8080" || fail "no log line naming the real server"
  dmesg | grep -o "no usable route to real server .*" | sort -u | sed 's/^/#   /'
}

# The log line is rate-limited (net_ratelimit: net.core.message_burst lines, then one per
# message_cost seconds): 200 SYNs from spoofed sources, each a new entry whose route fails,
# bring 200 route_errors and at most message_burst (3 here) lines.
log_rate_limited() {
  local burst cost errs0 lines0 sent errs lines
  read -r burst < /proc/sys/net/core/message_burst; read -r cost < /proc/sys/net/core/message_cost
  echo 3 > /proc/sys/net/core/message_burst; echo 600 > /proc/sys/net/core/message_cost
  ip route replace prohibit "$RS1/32"
  # Let the bucket fill to its new burst.
  nap 1
  errs0=$(drops route_errors); lines0=$(dmesg | grep -c "no usable route to real server $RS1:8080")
  sent=$(flood cl1 "$VIP" 80 200 --seconds 60 --seed 3)
  nap 1
  errs=$(( $(drops route_errors) - errs0 ))
  lines=$(( $(dmesg | grep -c "no usable route to real server $RS1:8080") - lines0 ))
  ip route del prohibit "$RS1/32"
  echo "$burst" > /proc/sys/net/core/message_burst; echo "$cost" > /proc/sys/net/core/message_cost
  expect_eq "$sent" 200 "spoofed SYNs sent"
  [ "$errs" -ge 200 ] || fail "$errs route_errors for $sent SYNs whose route failed"
  [ "$lines" -ge 1 ] && [ "$lines" -le 3 ] ||
    fail "$lines log lines for $errs route failures (net.core.message_burst 3: 1..3 expected)"
  diag "$errs route failures in a burst, $lines log lines (message_burst 3)"
}

service_recovers() {
  ip route add 198.51.100.0/24 dev br-rs
  ip route add default via "$GW"
  case "$(tcp_req cl1 80)" in "rs1 "*) ;; *) fail "the service does not recover after the routes are back";; esac
  diag "the service works again once the route is back"
}

run_test route_change_under_traffic route_change_under_traffic
run_test prohibit_route_dropped route_kind_fails prohibit EACCES
run_test unreachable_route_dropped route_kind_fails unreachable EHOSTUNREACH
run_test blackhole_route_dropped route_kind_fails blackhole EINVAL
run_test interface_down_dropped interface_down_fails
run_test no_route_dropped no_route_fails
run_test route_failure_logged log_names_real_server
run_test service_recovers service_recovers
run_test route_failure_log_rate_limited log_rate_limited
finish
