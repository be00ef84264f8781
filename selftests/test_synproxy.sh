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
#   window scale (3 or less) differs from the one the director announced (7), with offloads off (full
#   checksums updated; the other scenarios run with them on: offloaded checksums);
# - a real server port where nothing listens resets the client's connection; a silent real
#   server gets the director's SYN three times (after 1 and 2 more seconds), the dump
#   showing the entry in SYN_PROXY meanwhile, then the client is reset (7 s after its
#   handshake) and no entry is left;
# - a client-side ICMP error quoting a proxied connection's segment reaches the real server
#   with the sequence number shifted back (its path MTU drops to what the error says).
. "$(dirname "$0")/lib.sh"
plan 8
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

# A request from cl1 to VIP:80 through the proxy: fails unless a real server answered it
# and the connection has its entry; sets SEEN to the answer and the entry's state. (Not
# called in a command substitution: `fail` must end the scenario, not a subshell.)
proxied_request() { # what (for the messages)
  local ans st
  ans=$(tcp_req cl1 80)
  case "$ans" in "rs"[12]" $CL1") ;; *) fail "$1: the client got '$ans'";; esac
  st=$(conn_entry 80 - 'ESTABLISHED|FIN_WAIT|TIME_WAIT|CLOSE|CLOSE_WAIT|LAST_ACK') ||
    fail "$1: no entry for the connection"
  SEEN="$ans; entry ${st%% *}"
}

handshake_through_the_proxy() {
  local with without sent0 valid0
  proxy_setup
  sent0=$(drops syn_cookies_sent) valid0=$(drops syn_cookies_valid)
  proxied_request "with timestamps"; with=$SEEN
  in_ns cl1 sysctl -qw net.ipv4.tcp_timestamps=0
  proxied_request "without timestamps"; without=$SEEN
  in_ns cl1 sysctl -qw net.ipv4.tcp_timestamps=1
  expect_eq "$(( $(drops syn_cookies_sent) - sent0 ))" 2 "syn_cookies_sent for two connections"
  expect_eq "$(( $(drops syn_cookies_valid) - valid0 ))" 2 "syn_cookies_valid for two connections"
  diag "with timestamps: $with; without: $without; 2 cookies sent, 2 valid"
}

spoofed_syns_keep_nothing() {
  local sent e at ans c0
  proxy_setup
  c0=$(drops syn_cookies_sent)
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
  expect_ge "$(( $(drops syn_cookies_sent) - c0 ))" "$((sent + 1))" "syn_cookies_sent for $sent spoofed SYNs and a client's"
  diag "$sent spoofed SYNs: 0 entries, 0 packets at the real servers, each answered with a cookie; a real client got '$ans'"
}

blind_acks_open_nothing() {
  local sent e ba at r0
  proxy_setup
  r0=$(drops syn_cookies_refused)
  cap_start pack "$SPOOFED" rs1 rs2
  sent=$(flood cl1 "$VIP" 80 150 --ack)
  nap 1
  cap_stop pack
  e=$(ipvsdadm -L -n -c | grep -c ' 198\.1[89]\.')
  ba=$(drops blind_acks)
  expect_eq "$(( $(drops syn_cookies_refused) - r0 ))" "$ba" "syn_cookies_refused against blind_acks"
  expect_eq "$e" 0 "entries from spoofed sources after $sent SYN and blind ACK pairs"
  [ "$ba" -ge $((sent * 9 / 10)) ] || fail "only $ba blind ACKs counted for $sent"
  at=$(cap_count pack) || fail "could not count the captures"
  expect_eq "$at" 0 "packets from spoofed sources at the real servers"
  diag "$sent SYN and blind ACK pairs: 0 entries, $ba blind ACKs counted, 0 packets at the real servers"
}

# Of rs1's segments to cl1 in capture RS (as sent) and CL (as the client got them),
# matched by acknowledgment number (the client's own numbers, which the director leaves
# alone; SYNs, whose window is never scaled, aside): prints how many of CL's matched one of
# RS's, how many of those do not carry one of its windows rescaled from rs1's window scale
# to the director's, min(65535, win * 2^rs / 2^director), and the two scales, read from
# the SYN+ACKs (rs1's to the director, the director's to the client).
window_pairs() { # rs-pcap cl-pcap
  awk 'function field(name,   i) { for (i = 1; i < NF; i++) if ($i == name) return $(i + 1) + 0; return -1 }
    FNR == 1 { f++ }
    /Flags +S\. / { if (f == 1) rs = field("wscale"); else cl = field("wscale"); next }
    { a = field("ack"); w = field("win"); if (a < 0 || w < 0) next }
    f == 1 { raw[a] = raw[a] " " w; next }
    (a in raw) {
      n++; m = split(raw[a], ws, " "); hit = 0
      for (k = 1; k <= m; k++) { v = int(ws[k] * 2 ^ rs / 2 ^ cl); if (v > 65535) v = 65535; if (v == w) hit = 1 }
      if (!hit) bad++
    }
    END { print n + 0, bad + 0, rs, cl }' \
    <(tcpdump -S -nr "$1" 2>/dev/null | sed 's/[],[]/ /g') <(tcpdump -S -nr "$2" 2>/dev/null | sed 's/[],[]/ /g')
}

transfer_with_another_window_scale() {
  local want got up pairs bad rs_ws cl_ws
  proxy_setup
  adm -A -t "$VIP:81" -s rr
  adm -a -t "$VIP:81" -r "$RS1:8081" -m
  # rs1 scales its window by 3 or less (a receive buffer of at most 256 KiB): not the
  # director's 7.
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
  # Up: the client sends it; rs1's window, scaled by 2, reaches it rescaled to 7: both
  # ends' captures of rs1's segments are compared.
  rm -f /tmp/proxy.up
  in_ns rs1 timeout 150 socat -u TCP-LISTEN:8081,reuseaddr CREATE:/tmp/proxy.up >/dev/null 2>&1 &
  wait_listen rs1 8081
  cap_start pwin "tcp src port 8081 or tcp src port 81" cl1 rs1
  in_ns cl1 timeout 120 socat -u OPEN:/tmp/proxy.data TCP:"$VIP:81" >/dev/null 2>&1
  nap 1
  cap_stop pwin
  up=$(sha256sum < /tmp/proxy.up)
  read -r pairs bad rs_ws cl_ws < <(window_pairs /tmp/pwin.rs1.pcap /tmp/pwin.cl1.pcap)
  in_ns rs1 sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
  for ns in cl1 rs1; do in_ns $ns ethtool -K eth0 tx on rx on >/dev/null; done
  expect_eq "$got" "$want" "sha256 of 4 MB from rs1 through the proxy (rs1 window scale $rs_ws, the director's 7)"
  expect_eq "$up" "$want" "sha256 of 4 MB to rs1 through the proxy (rs1 window scale $rs_ws, the director's 7)"
  expect_eq "$cl_ws" 7 "the window scale the director announced"
  [ "${rs_ws:-7}" -lt 7 ] || fail "rs1's window scale is '$rs_ws', not below the director's 7"
  [ "$pairs" -ge 50 ] || fail "only $pairs of rs1's segments found in both captures"
  expect_eq "$bad" 0 "segments of rs1 whose window the client got not rescaled from $rs_ws to 7 (of $pairs)"
  diag "4 MB from rs1 and 4 MB to rs1 through the proxy arrived intact (sha256 ${want%% *});" \
    "$pairs of rs1's segments seen at both ends, each window rescaled from $rs_ws to 7"
}

# A client of VIP:VPORT that connects, sends its request (none) and waits up to MS
# milliseconds for the answer; prints what it got or why not.
client_waits() { # vport ms
  "$LOADGEN" req --netns "cl1-$NS_SUFFIX" --dst "$VIP:$1" --timeout-ms "$2" 2>&1
}

refused_port_resets_the_client() {
  local out t0 t1 f0
  proxy_setup
  f0=$(drops syn_proxy_failures)
  adm -A -t "$VIP:82" -s rr
  adm -a -t "$VIP:82" -r "$RS1:8082" -m   # nothing listens on rs1:8082
  t0=$(date +%s)
  out=$(client_waits 82 20000)
  t1=$(date +%s)
  case "$out" in *"Connection reset"*|*"Connection refused"*) ;; *) fail "the client was not reset: '$out'";; esac
  [ $((t1 - t0)) -le 10 ] || fail "the reset took $((t1 - t0)) s"
  conn_entry 82 >/dev/null && fail "an entry is left for the refused connection"
  expect_eq "$(( $(drops syn_proxy_failures) - f0 ))" 1 "syn_proxy_failures after a refused connection"
  diag "nothing listens on rs1:8082: the client was reset within $((t1 - t0)) s ('${out##*: }'), no entry left"
}

silent_server_resets_the_client() {
  local out t0 t1 syns f0 cpid st i
  proxy_setup
  f0=$(drops syn_proxy_failures)
  adm -A -t "$VIP:83" -s rr
  adm -a -t "$VIP:83" -r "$RS1:8083" -m
  # rs1 answers nothing the client's address would get: silent, for the director.
  in_ns rs1 ip route add blackhole "$CL1/32" || fail "could not silence rs1"
  cap_start psilent "tcp port 8083 or tcp port 83" cl1 rs1
  t0=$(date +%s)
  client_waits 83 30000 > /tmp/silent.out 2>&1 &
  cpid=$!
  # While the director waits for rs1, the dump shows the entry in set-up.
  for ((i = 0; i < 25; i++)); do st=$(conn_entry 83) && break; nap 0.2; done
  wait "$cpid"
  t1=$(date +%s)
  out=$(< /tmp/silent.out)
  [[ ${st:-} == SYN_PROXY\ * ]] || fail "the entry in set-up is shown as '${st:-none}', not SYN_PROXY"
  cap_stop psilent
  in_ns rs1 ip route del blackhole "$CL1/32"

  syns=$(pcap_count /tmp/psilent.rs1.pcap 'tcp dst port 8083 and tcp[tcpflags] & tcp-syn != 0') ||
    fail "could not count the capture"
  case "$out" in *"Connection reset"*) ;; *) cap_print psilent | sed 's/^/#   /' ;; esac
  expect_eq "$syns" 3 "SYNs at the silent rs1:8083 (the first and $((3 - 1)) again)"
  case "$out" in *"Connection reset"*) ;; *) fail "the client was not reset: '$out' ($((t1 - t0)) s)";; esac
  [ $((t1 - t0)) -ge 6 ] && [ $((t1 - t0)) -le 15 ] || fail "the reset came after $((t1 - t0)) s (7 expected)"
  conn_entry 83 >/dev/null && fail "an entry is left for the given-up connection"
  expect_eq "$(( $(drops syn_proxy_failures) - f0 ))" 1 "syn_proxy_failures after a silent server"
  diag "silent rs1:8083: the dump showed '$st'; $syns SYNs, the client reset after $((t1 - t0)) s, no entry left"
}

# A router on the client's side that cannot pass rs1's segments tells the VIP ("fragmentation
# needed", MTU 1300), quoting the director's sequence number: rs1 gets it quoted with its own
# (it takes no error about a number it never sent) and lowers its path MTU to 1300.
client_icmp_reaches_the_server_translated() {
  local cport nxt pm line
  proxy_setup
  adm -A -t "$VIP:84" -s rr
  adm -a -t "$VIP:84" -r "$RS1:8084" -m
  in_ns rs1 timeout 60 socat TCP-LISTEN:8084,reuseaddr SYSTEM:"head -c 3000 /dev/zero; sleep 30" \
    >/dev/null 2>&1 &
  wait_listen rs1 8084
  cap_start picmp "tcp src port 84" cl1
  # The client keeps its side open (no FIN, which would end rs1's side at once).
  in_ns cl1 timeout 40 socat TCP:"$VIP:84" - >/dev/null 2>&1 < <(sleep 35) &
  nap 4
  cap_stop picmp
  # The client's port and the next sequence number after the last data it got.
  line=$(tcpdump -S -nr /tmp/picmp.cl1.pcap 'tcp[tcpflags] & tcp-push != 0' 2>/dev/null | tail -1)
  read -r cport nxt < <(echo "$line" | sed 's/[:,]/ /g' | awk '{
      for (i = 1; i < NF; i++) { if ($i == ">") { n = split($(i + 1), d, "."); c = d[n] }
        if ($i == "seq") s = $(i + 2) }
      print c, s }')
  [ -n "$nxt" ] || fail "no data from rs1 in the client's capture ('$line')"
  # rs1's route to the client shows a learned path MTU (an exception) only after one.
  pm=$(in_ns rs1 ip route get "$CL1" | grep -o "mtu [0-9]*")
  expect_eq "$pm" "" "rs1's path MTU to the client before the ICMP error"
  in_ns cl1 python3 -S "$IPVSD_TOP/selftests/icmp_frag.py" "$VIP" 84 "$CL1" "$cport" "$nxt" >/dev/null ||
    fail "icmp_frag.py failed"
  nap 1
  pm=$(in_ns rs1 ip route get "$CL1" | grep -o "mtu [0-9]*")
  expect_eq "$pm" "mtu 1300" "rs1's path MTU to the client after the client side's ICMP error"
  diag "a client-side 'fragmentation needed' quoting sequence number $nxt reached rs1 translated: its path MTU is 1300"
}

syn_proxy_off_leaves_the_handshake_to_the_servers() {
  local st ans n
  setup_svc
  expect_eq "$(sc syn_proxy)" 2 "syn_proxy after the scenarios"
  sc_write syn_proxy 0
  cap_start poff "tcp[tcpflags] & tcp-syn != 0 and src host $CL1" rs1 rs2
  ans=$(tcp_req cl1 80)
  cap_stop poff
  n=$(cap_count poff) || fail "could not count the captures"
  [ "$n" -ge 1 ] || fail "syn_proxy 0: the client's SYN did not reach a real server (answer '$ans')"
  st=$(conn_entry 80) || fail "syn_proxy 0: no entry"
  diag "syn_proxy 0: the client's own SYN reached a real server ($n seen; answer '$ans'); entry ${st%% *}"
}

run_test handshake_through_the_proxy handshake_through_the_proxy
run_test spoofed_syns_keep_nothing spoofed_syns_keep_nothing
run_test blind_acks_open_nothing blind_acks_open_nothing
run_test transfer_with_another_window_scale transfer_with_another_window_scale
run_test refused_port_resets_the_client refused_port_resets_the_client
run_test silent_server_resets_the_client silent_server_resets_the_client
run_test client_icmp_reaches_the_server_translated client_icmp_reaches_the_server_translated
run_test syn_proxy_off_leaves_the_handshake_to_the_servers syn_proxy_off_leaves_the_handshake_to_the_servers
finish
