#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Our flows are untracked, as IPVS's are by default: with a stateful nft ruleset on the
# director (`ct state invalid drop` in input and forward) and a masquerade on the clients'
# side, connections through the VIP work, every reply reaches the client from the VIP
# (never masqueraded, never from a real server), and conntrack keeps no entry per flow.
#
# Topology: lib.sh's; the ruleset is the director's (root namespace).
. "$(dirname "$0")/lib.sh"
plan 1
command -v nft >/dev/null || fail "nft missing (make setup installs nftables)"
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; nft delete table ip ipvsd_test 2>/dev/null; mod_unload; topo_cleanup' EXIT
rs_start
nft -f - <<EOF || fail "could not load the nft ruleset"
table ip ipvsd_test {
  chain input { type filter hook input priority filter; ct state invalid counter drop; }
  chain forward { type filter hook forward priority filter; ct state invalid counter drop; }
  chain postrouting { type nat hook postrouting priority srcnat; oifname "br-cl" masquerade; }
}
EOF
adm -A -t "$VIP:80" -s rr
adm -a -t "$VIP:80" -r "$RS1:8080" -m
adm -a -t "$VIP:80" -r "$RS2:8080" -m
adm -A -u "$VIP:53" -s rr
adm -a -u "$VIP:53" -r "$RS1:5353" -m

ct_count() { local n; read -r n < /proc/sys/net/netfilter/nf_conntrack_count && echo "$n"; }

stateful_ruleset() {
  local i ans ct0 ct1 foreign
  ct0=$(ct_count) || fail "no nf_conntrack_count: conntrack is not loaded"
  cap_start ct "tcp port 80 or udp port 53" cl1
  i=0
  while IFS= read -r ans; do
    i=$((i + 1))
    case "$ans" in "rs"[12]" $CL1") ;; *) fail "connection $i with the stateful ruleset: '$ans'" ;; esac
  done < <(tcp_req cl1 80 10)
  expect_eq "$i" 10 "answers with the stateful ruleset"
  ans=$(udp_req cl1 53)
  expect_eq "$ans" "rs1 $CL1" "UDP request with the stateful ruleset"
  cap_stop ct
  ct1=$(ct_count)
  # Every packet toward the client comes from VIP:80 or VIP:53.
  foreign=$(cap_print ct "dst host $CL1" | grep -vcE " IP $VIP\.(80|53) > ")
  expect_eq "$foreign" 0 "packets to the client from anything but the VIP's ports"
  [ "$(cap_count ct "dst host $CL1")" -ge 30 ] || fail "the capture saw too few replies"
  [ $((ct1 - ct0)) -lt 3 ] ||
    fail "conntrack grew from $ct0 to $ct1 entries over 11 flows through the VIP"
  nft list chain ip ipvsd_test forward | sed 's/^/# /'
  diag "ct state invalid drop and a masquerade: 10 TCP + 1 UDP flows through the VIP," \
    "replies from the VIP only, conntrack entries $ct0 -> $ct1"
}

run_test untracked_through_stateful_ruleset stateful_ruleset
finish
