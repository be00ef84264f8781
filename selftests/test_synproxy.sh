#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The SYN proxy (syn_proxy 2: always): the director answers a service's SYNs itself with a
# cookie and keeps nothing; a client's ACK with a valid cookie opens the entry and the
# director's own handshake with a real server; the connection's segments are translated
# (sequence numbers, timestamps, window scale, SACK) for its life.
#
#   cl1 (192.0.2.2) --- director (VIP 192.0.2.1 | 198.51.100.1) --- rs1, rs2 (198.51.100.2, .3)
#
# - a real client's request is answered through the proxy, with and without TCP
#   timestamps (without them no window scale or SACK survives the cookie);
# - a spoofed SYN flood opens no entry and sends nothing to the real servers;
# - a SYN-then-blind-ACK flood opens no entry either (the ACKs are counted as blind_acks)
#   and nothing reaches the real servers;
# - 4 MB of random bytes from a real server, and to it, arrive intact when the real server's
#   window scale (2) differs from the one the director announced (7), with offloads off (full
#   checksums updated; the other scenarios run with them on: offloaded checksums);
# - a real server port where nothing listens resets the client's connection.
. "$(dirname "$0")/lib.sh"
plan 6
mod_unload; topo_setup; mod_load
trap 'kill $(jobs -p) 2>/dev/null; wait; mod_unload; topo_cleanup' EXIT
rs_start
sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.br-cl.rp_filter=0
# Replies to the spoofed sources go to cl2, which drops them: nothing leaves the guest.
ip route add 198.18.0.0/15 via "$CL2" || fail "could not route the spoofed range to cl2"
SPOOFED='tcp and src net 198.18.0.0/15'

proxy_setup() {
  setup_svc
  sc_write syn_proxy 2 || fail "syn_proxy 2 refused"
}

# The entry of cl1's last connection to VIP:80, and the answer it got.
proxied_request() { # what (for the messages)
  local ans st
  ans=$(tcp_req cl1 80)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "$1: the client got '$ans'";; esac
  st=$(conn_entry 80 - 'ESTABLISHED|FIN_WAIT|TIME_WAIT|CLOSE|CLOSE_WAIT|LAST_ACK') ||
    fail "$1: no entry for the connection"
  echo "$ans; entry ${st%% *}"
}

handshake_through_the_proxy() {
  local with without
  proxy_setup
  with=$(proxied_request "with timestamps")
  in_ns cl1 sysctl -qw net.ipv4.tcp_timestamps=0
  without=$(proxied_request "without timestamps")
  in_ns cl1 sysctl -qw net.ipv4.tcp_timestamps=1
  diag "with timestamps: $with; without: $without"
}

spoofed_syns_keep_nothing() {
  local sent e at ans
  proxy_setup
  cap_start pflood "$SPOOFED" rs1 rs2
  sent=$(flood cl1 "$VIP" 80 300)
  ans=$(tcp_req cl1 80)
  nap 1
  cap_stop pflood
  e=$(ipvsdadm -L -n -c | grep -c ' 198\.1[89]\.')
  expect_eq "$e" 0 "entries from spoofed sources after $sent SYNs"
  at=$(cap_count pflood) || fail "could not count the captures"
  expect_eq "$at" 0 "packets from spoofed sources at the real servers"
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "a real client during the flood got '$ans'";; esac
  diag "$sent spoofed SYNs: 0 entries, 0 packets at the real servers; a real client got '$ans'"
}

blind_acks_open_nothing() {
  local sent e ba at
  proxy_setup
  cap_start pack "$SPOOFED" rs1 rs2
  sent=$(flood cl1 "$VIP" 80 150 --ack)
  nap 1
  cap_stop pack
  e=$(ipvsdadm -L -n -c | grep -c ' 198\.1[89]\.')
  ba=$(drops blind_acks)
  expect_eq "$e" 0 "entries from spoofed sources after $sent SYN and blind ACK pairs"
  [ "$ba" -ge $((sent * 9 / 10)) ] || fail "only $ba blind ACKs counted for $sent"
  at=$(cap_count pack) || fail "could not count the captures"
  expect_eq "$at" 0 "packets from spoofed sources at the real servers"
  diag "$sent SYN and blind ACK pairs: 0 entries, $ba blind ACKs counted, 0 packets at the real servers"
}

transfer_with_another_window_scale() {
  local want got up
  proxy_setup
  adm -A -t "$VIP:81" -s rr
  adm -a -t "$VIP:81" -r "$RS1:8081" -m
  # rs1 scales its window by 2 (a receive buffer of at most 256 KiB): not the director's 7.
  in_ns rs1 sysctl -qw net.ipv4.tcp_rmem="4096 131072 262144"
  for ns in cl1 rs1; do
    in_ns $ns ethtool -K eth0 tx off rx off >/dev/null || fail "ethtool: offloads of $ns stay on"
  done
  head -c 4000000 /dev/urandom > /tmp/proxy.data
  want=$(sha256sum < /tmp/proxy.data)
  # Down: rs1 sends the file.
  in_ns rs1 socat -u OPEN:/tmp/proxy.data TCP-LISTEN:8081,reuseaddr >/dev/null 2>&1 &
  wait_listen rs1 8081
  got=$(in_ns cl1 timeout 120 socat -u TCP:"$VIP:81" - | sha256sum)
  # Up: the client sends it; rs1's window, scaled by 2, reaches it rescaled to 7.
  rm -f /tmp/proxy.up
  in_ns rs1 timeout 150 socat -u TCP-LISTEN:8081,reuseaddr CREATE:/tmp/proxy.up >/dev/null 2>&1 &
  wait_listen rs1 8081
  in_ns cl1 timeout 120 socat -u OPEN:/tmp/proxy.data TCP:"$VIP:81" >/dev/null 2>&1
  nap 1
  up=$(sha256sum < /tmp/proxy.up)
  in_ns rs1 sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
  for ns in cl1 rs1; do in_ns $ns ethtool -K eth0 tx on rx on >/dev/null; done
  expect_eq "$got" "$want" "sha256 of 4 MB from rs1 through the proxy (rs1 window scale 2, the director's 7)"
  expect_eq "$up" "$want" "sha256 of 4 MB to rs1 through the proxy (rs1 window scale 2, the director's 7)"
  diag "4 MB from rs1 and 4 MB to rs1 through the proxy arrived intact (sha256 ${want%% *})"
}

refused_port_resets_the_client() {
  local out t0 t1
  proxy_setup
  adm -A -t "$VIP:82" -s rr
  adm -a -t "$VIP:82" -r "$RS1:8082" -m   # nothing listens on rs1:8082
  t0=$(date +%s)
  out=$(in_ns cl1 timeout 30 socat -T 20 - TCP:"$VIP:82",connect-timeout=20 </dev/null 2>&1)
  t1=$(date +%s)
  case "$out" in *"Connection reset"*|*"Connection refused"*) ;; *) fail "the client was not reset: '$out'";; esac
  [ $((t1 - t0)) -le 10 ] || fail "the reset took $((t1 - t0)) s"
  conn_entry 82 >/dev/null && fail "an entry is left for the refused connection"
  diag "nothing listens on rs1:8082: the client was reset within $((t1 - t0)) s ('${out##*: }'), no entry left"
}

syn_proxy_off_leaves_the_handshake_to_the_servers() {
  local st
  setup_svc
  expect_eq "$(sc syn_proxy)" 2 "syn_proxy after the scenarios"
  sc_write syn_proxy 0
  cap_start poff "tcp[tcpflags] & tcp-syn != 0 and src host $CL1" rs1 rs2
  tcp_req cl1 80 >/dev/null
  cap_stop poff
  [ "$(cap_count poff)" -ge 1 ] ||
    fail "syn_proxy 0: the client's SYN did not reach a real server"
  st=$(conn_entry 80) || fail "syn_proxy 0: no entry"
  diag "syn_proxy 0: the client's own SYN reached a real server; entry ${st%% *}"
}

run_test handshake_through_the_proxy handshake_through_the_proxy
run_test spoofed_syns_keep_nothing spoofed_syns_keep_nothing
run_test blind_acks_open_nothing blind_acks_open_nothing
run_test transfer_with_another_window_scale transfer_with_another_window_scale
run_test refused_port_resets_the_client refused_port_resets_the_client
run_test syn_proxy_off_leaves_the_handshake_to_the_servers syn_proxy_off_leaves_the_handshake_to_the_servers
finish
