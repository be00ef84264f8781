#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The director with nf_conntrack tracking its traffic: the legacy iptables nat table (a
# MASQUERADE rule for a network that plays no part here) makes netfilter track every
# connection of the director's namespace. The service works as without: rr over both
# servers, UDP, a 2 MB transfer whole; conntrack tracks a ping through the director but
# keeps no entry for the flows through the VIP, which are untracked. (Last in
# `make test`: conntrack stays on in the namespace for the rest of the boot.)
. "$(dirname "$0")/lib.sh"
plan 5
command -v iptables-legacy >/dev/null || skip "iptables-legacy missing"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; iptables-legacy -t nat -F 2>/dev/null; mod_unload; topo_cleanup' EXIT
rs_start
iptables-legacy -t nat -A POSTROUTING -s 203.0.113.0/24 -o v-gw -j MASQUERADE ||
  fail "could not add the nat rule"
adm -A -t "$VIP:80" -s rr
adm -a -t "$VIP:80" -r "$RS1:8080" -m
adm -a -t "$VIP:80" -r "$RS2:8080" -m
adm -A -u "$VIP:53" -s rr
adm -a -u "$VIP:53" -r "$RS1:5353" -m
adm -A -t "$VIP:81" -s rr
adm -a -t "$VIP:81" -r "$RS1:8081" -m
# The entries conntrack holds before the flows through the VIP: those of a ping through
# the director.
in_ns cl1 ping -c 1 -W 5 "$RS1" >/dev/null || fail "cl1 cannot ping rs1 through the director"
read -r CT0 < /proc/sys/net/netfilter/nf_conntrack_count || fail "no nf_conntrack_count"

conntrack_tracks_forwarded_ping() {
  [ "$CT0" -gt 0 ] || fail "conntrack is not tracking: a ping through the director left no entry"
}

tcp_rr_with_conntrack() {
  local seq="" i ans
  i=0
  while IFS= read -r ans; do
    i=$((i + 1))
    case "$ans" in "rs"[12]" $CL1") seq="$seq${ans:2:1}" ;; *) fail "TCP request $i with conntrack: '$ans'" ;; esac
  done < <(tcp_req cl1 80 4)
  case "$seq" in 1212|2121) ;; *) fail "rr with conntrack gave $seq" ;; esac
  diag "with conntrack on: rr $seq"
}

udp_with_conntrack() {
  local ans
  ans=$(udp_req cl2 53)
  expect_eq "$ans" "rs1 $CL2" "UDP request with conntrack"
  diag "with conntrack on: UDP '$ans'"
}

transfer_2mb_with_conntrack() {
  expect_eq "$(bulk_from_rs1 2000000 60)" 2000000 "bytes received through the VIP with conntrack"
  diag "with conntrack on: 2 MB whole"
}

vip_flows_untracked() {
  local ct
  read -r ct < /proc/sys/net/netfilter/nf_conntrack_count || fail "no nf_conntrack_count"
  [ $((ct - CT0)) -lt 3 ] || fail "conntrack grew from $CT0 to $ct entries over 6 flows through the VIP"
  diag "with conntrack on: $CT0 entries before the flows through the VIP, $ct after"
}

run_test conntrack_tracks_forwarded_ping conntrack_tracks_forwarded_ping
run_test tcp_rr_with_conntrack tcp_rr_with_conntrack
run_test udp_with_conntrack udp_with_conntrack
run_test transfer_2mb_with_conntrack transfer_2mb_with_conntrack
run_test vip_flows_untracked vip_flows_untracked
finish
